package io.vitfleet.worker;

import io.vitfleet.model.StageGraph;
import io.vitfleet.model.StageResult;
import io.vitfleet.model.ViTParameters;
import io.vitfleet.protocol.ParameterManifest;
import io.vitfleet.protocol.ParameterSpec;
import io.vitfleet.protocol.control.Endpoint;
import io.vitfleet.protocol.control.Install;
import io.vitfleet.protocol.control.Plan;
import io.vitfleet.protocol.frame.DType;
import io.vitfleet.protocol.frame.FrameKind;
import io.vitfleet.protocol.frame.TensorDescriptor;
import io.vitfleet.protocol.link.DataPlane;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs one worker's part of a step: stage s of replica r under one installed plan (docs/cluster.md, "Units of work").
 * It waits for the stage's parameters of the step, runs the {@link PipelineSchedule} over the replica's microbatches
 * — forwards send activations downstream and keep the forward tensors their backward needs
 * ({@link StageGraph#forwardStashed}), backwards send the input gradient upstream without recomputing the forward —
 * and accumulates the weight gradients of each group, in microbatch order, into a zeroed buffer whose tensors go to
 * their shards when the group's last microbatch is done. That is the one-process trainer's
 * arithmetic step for step, so the group sums are the same bits whatever the plan.
 *
 * <p>Built once per installed plan (checking that the plan and the stage graph agree); {@link #runStep} is called on
 * one thread at a time.
 */
public final class StageExecutor {

  /** What a finished step reports: the last stage's loss summed over its microbatches (0 elsewhere). */
  public record StepOutcome(long step, double lossSum, int microbatches, double seconds, double parameterWaitSeconds,
                            double inputWaitSeconds) {
  }

  private final long jobId;
  private final int planVersion;
  private final int replica;
  private final int stage;
  private final int stages;
  private final StageGraph graph;
  private final float scale;
  private final Duration receiveTimeout;
  private final int microbatchSize;
  private final int perGroup;

  /** The stage's tensors: global manifest index, offset in the flat stage buffer, element count, shape, shard. */
  private final int[] tensorIds;
  private final int[] offsets;
  private final int[] sizes;
  private final int[][] shapes;
  private final Endpoint[] shardOf;
  private final String[] shardIds;

  private final Endpoint upstream;
  private final Endpoint downstream;
  private final String upstreamId;
  private final String downstreamId;
  private final List<Integer> microbatches;
  private final List<PipelineSchedule.Op> schedule;

  private final float[] params;
  private final float[] accumulator;
  private final TensorDescriptor descriptor = new TensorDescriptor();
  /** Time the current step spent waiting for its inputs (images or activations), for the step's report. */
  private long inputWaitNanos;

  /**
   * The executor of (replica, stage) of {@code install}'s plan, computing with {@code graph}.
   *
   * @param globalBatch B: the loss of every microbatch is divided by it
   * @param groups G, the job's accumulation groups
   * @param receiveTimeout how long to wait for each incoming tensor
   * @throws IllegalArgumentException saying what disagrees when the plan, its stage tensors and the graph do not
   *     describe the same stage, or an endpoint the stage sends to is missing
   */
  public StageExecutor(Install install, int replica, int stage, StageGraph graph, int globalBatch, int groups,
                       Duration receiveTimeout) {
    Plan plan = install.plan();
    this.jobId = install.jobId();
    this.planVersion = plan.version();
    this.replica = replica;
    this.stage = stage;
    this.stages = plan.pipelineDepth();
    this.graph = graph;
    this.scale = globalBatch;
    this.receiveTimeout = receiveTimeout;
    this.microbatchSize = graph.microbatch();
    String where = "plan " + planVersion + ", replica " + replica + ", stage " + stage;
    if (stage < 0 || stage >= stages || replica < 0 || replica >= plan.dataParallel()) {
      throw new IllegalArgumentException(where + " is outside P=" + stages + ", D=" + plan.dataParallel());
    }
    Plan.StageLayers layers = plan.stages().get(stage);
    if (layers.firstBlock() != graph.firstBlock() || layers.endBlock() != graph.endBlock()) {
      throw new IllegalArgumentException(where + " holds blocks [" + layers.firstBlock() + ", " + layers.endBlock()
          + ") but the stage graph was built for " + graph);
    }
    if (plan.microbatchSize() != microbatchSize) {
      throw new IllegalArgumentException(where + ": the plan's microbatch is " + plan.microbatchSize()
          + " but the stage graph's is " + microbatchSize);
    }
    if (globalBatch % microbatchSize != 0 || (globalBatch / microbatchSize) % groups != 0) {
      throw new IllegalArgumentException(where + ": global batch " + globalBatch + " does not split into " + groups
          + " groups of microbatches of " + microbatchSize);
    }
    this.perGroup = globalBatch / microbatchSize / groups;

    ParameterManifest full = ViTParameters.manifest(graph.config());
    ParameterManifest local = graph.manifest();
    List<Integer> ids = install.stageTensors().get(stage);
    if (ids.size() != local.count()) {
      throw new IllegalArgumentException(where + ": Install lists " + ids.size() + " tensors for the stage but its "
          + "graph " + graph + " has " + local.count() + "; coordinator and worker disagree on the stage manifest");
    }
    if (plan.chunkShards().size() != full.count()) {
      throw new IllegalArgumentException(where + " assigns " + plan.chunkShards().size() + " chunks to shards but "
          + graph.config().name() + " has " + full.count() + " tensors");
    }
    int n = ids.size();
    this.tensorIds = new int[n];
    this.offsets = new int[n];
    this.sizes = new int[n];
    this.shapes = new int[n][];
    this.shardOf = new Endpoint[n];
    this.shardIds = new String[n];
    for (int i = 0; i < n; i++) {
      int id = ids.get(i);
      ParameterSpec expected = local.get(i);
      if (id < 0 || id >= full.count() || !full.get(id).equals(expected)) {
        throw new IllegalArgumentException(where + ": stage tensor " + i + " is manifest index " + id + " ("
            + (id >= 0 && id < full.count() ? full.get(id) : "out of range") + ") but the stage graph expects "
            + expected + " there; coordinator and worker disagree on the stage manifest");
      }
      tensorIds[i] = id;
      offsets[i] = Math.toIntExact(local.offset(i));
      sizes[i] = Math.toIntExact(expected.size());
      shapes[i] = expected.shape();
      int shard = plan.chunkShards().get(id);
      shardOf[i] = install.shardEndpoint(shard);
      shardIds[i] = Install.shardMemberId(shard);
    }

    this.upstreamId = stage > 0 ? plan.workerOf(replica, stage - 1) : "the feeder";
    this.downstreamId = stage < stages - 1 ? plan.workerOf(replica, stage + 1) : null;
    this.upstream = stage > 0 ? install.endpointOf(upstreamId) : null;
    this.downstream = downstreamId != null ? install.endpointOf(downstreamId) : null;

    this.microbatches = new ArrayList<>();
    for (int g : plan.replicaGroups().get(replica).groups()) {
      if (g >= groups) {
        throw new IllegalArgumentException(where + ": replica " + replica + " is given group " + g + " but the job "
            + "has " + groups + " groups");
      }
      for (int k = g * perGroup; k < (g + 1) * perGroup; k++) {
        microbatches.add(k);
      }
    }
    this.schedule = PipelineSchedule.of(stage, stages, microbatches);
    this.params = new float[Math.toIntExact(local.totalSize())];
    this.accumulator = new float[params.length];
  }

  public int replica() {
    return replica;
  }

  public int stage() {
    return stage;
  }

  public int planVersion() {
    return planVersion;
  }

  /** The global microbatch indices this executor processes, in order. */
  public List<Integer> microbatches() {
    return List.copyOf(microbatches);
  }

  /**
   * Runs step {@code step}: parameters, schedule, group sums. Returns once every group sum has been handed to
   * {@code outbox}.
   *
   * @throws TensorMailbox.ReceiveTimeoutException when an input does not arrive in time
   * @throws java.util.concurrent.CancellationException when the step is aborted ({@link TensorMailbox#cancel})
   * @throws DataPlane.LinkException when a peer cannot be sent to
   */
  public StepOutcome runStep(long step, TensorMailbox inbox, TensorOutbox outbox) {
    long started = System.nanoTime();
    inputWaitNanos = 0;
    loadParameters(step, inbox);
    long parametersIn = System.nanoTime();
    Map<Integer, StageGraph.Stash> stored = new HashMap<>();
    double lossSum = 0;
    try {
      for (PipelineSchedule.Op op : schedule) {
        int k = op.microbatch();
        switch (op.kind()) {
          case FORWARD -> {
            float[] in = input(step, k, inbox);
            StageGraph.Stash stash = graph.forwardStashed(params, in);
            stored.put(k, stash);
            float[] out = stash.output();
            send(outbox, downstream, FrameKind.ACTIVATION, step, k, 0, activationShape(), out, 0, out.length);
          }
          case BACKWARD -> {
            float[] dy = floats(take(inbox, FrameKind.ACTIVATION_GRAD, step, k, 0, downstreamId),
                graph.activationSize(microbatchSize));
            startGroupIfFirst(k);
            StageResult r;
            try (StageGraph.Stash stash = stored.remove(k)) {
              r = graph.backward(stash, params, dy, accumulator);
            }
            sendInputGrad(outbox, step, k, r);
            sendGroupIfLast(outbox, step, k);
          }
          case FORWARD_BACKWARD -> {
            float[] in = input(step, k, inbox);
            int[] labels = labels(take(inbox, FrameKind.LABELS, step, k, 0, "the feeder"));
            startGroupIfFirst(k);
            StageResult r = graph.forwardBackward(params, in, labels, null, scale, accumulator);
            lossSum += r.loss();
            sendInputGrad(outbox, step, k, r);
            sendGroupIfLast(outbox, step, k);
          }
        }
      }
    } finally {
      // An aborted step leaves forwards whose backward never came: release their native tensors.
      for (StageGraph.Stash stash : stored.values()) {
        stash.close();
      }
    }
    return new StepOutcome(step, lossSum, microbatches.size(), (System.nanoTime() - started) / 1e9,
        (parametersIn - started) / 1e9, inputWaitNanos / 1e9);
  }

  /** One PARAMETERS tensor (step t) per tensor of the stage, copied into the flat stage buffer. */
  private void loadParameters(long step, TensorMailbox inbox) {
    for (int i = 0; i < tensorIds.length; i++) {
      DataPlane.Tensor t = take(inbox, FrameKind.PARAMETERS, step, 0, tensorIds[i], shardIds[i]);
      float[] values = floats(t, sizes[i]);
      System.arraycopy(values, 0, params, offsets[i], sizes[i]);
    }
  }

  private float[] input(long step, int k, TensorMailbox inbox) {
    FrameKind kind = stage == 0 ? FrameKind.IMAGES : FrameKind.ACTIVATION;
    long from = System.nanoTime();
    float[] in = floats(take(inbox, kind, step, k, 0, upstreamId), graph.inputSize(microbatchSize));
    inputWaitNanos += System.nanoTime() - from;
    return in;
  }

  private void startGroupIfFirst(int k) {
    if (k % perGroup == 0) {
      Arrays.fill(accumulator, 0f);
    }
  }

  private void sendInputGrad(TensorOutbox outbox, long step, int k, StageResult r) {
    if (stage > 0) {
      float[] dx = r.inputGrad();
      send(outbox, upstream, FrameKind.ACTIVATION_GRAD, step, k, 0, activationShape(), dx, 0, dx.length);
    }
  }

  private void sendGroupIfLast(TensorOutbox outbox, long step, int k) {
    if ((k + 1) % perGroup != 0) {
      return;
    }
    int group = k / perGroup;
    for (int i = 0; i < tensorIds.length; i++) {
      send(outbox, shardOf[i], FrameKind.WEIGHT_GRAD_GROUP_SUM, step, group, tensorIds[i], shapes[i], accumulator,
          offsets[i], sizes[i]);
    }
  }

  private int[] activationShape() {
    return new int[] {microbatchSize, graph.config().tokens(), graph.config().width()};
  }

  private void send(TensorOutbox outbox, Endpoint peer, FrameKind kind, long step, int index, int tensorId,
                    int[] shape, float[] data, int offset, int length) {
    descriptor.jobId(jobId).planVersion(planVersion).step(step).microbatchOrGroup(index).stage(stage).kind(kind)
        .tensorId(tensorId).dtype(DType.F32).shape(shape);
    outbox.send(peer, descriptor, data, offset, length);
  }

  private DataPlane.Tensor take(TensorMailbox inbox, FrameKind kind, long step, int index, int tensorId,
                                String sender) {
    try {
      return inbox.take(planVersion, kind, step, index, tensorId, receiveTimeout);
    } catch (TensorMailbox.ReceiveTimeoutException e) {
      throw new TensorMailbox.ReceiveTimeoutException(e.getMessage() + " at replica " + replica + ", stage "
          + stage + ": is " + sender + " running?");
    }
  }

  private float[] floats(DataPlane.Tensor t, int expected) {
    if (t.floats() == null || t.floats().length != expected) {
      throw new IllegalArgumentException(t.kind() + " of step " + t.step() + " index " + t.index() + " tensor "
          + t.tensorId() + " has " + (t.floats() == null ? t.dtype() + " data" : t.floats().length + " floats")
          + " but replica " + replica + ", stage " + stage + " (plan " + planVersion + ") expects " + expected
          + " floats");
    }
    return t.floats();
  }

  private int[] labels(DataPlane.Tensor t) {
    if (t.ints() == null || t.ints().length != microbatchSize) {
      throw new IllegalArgumentException("LABELS of step " + t.step() + " microbatch " + t.index() + " has "
          + (t.ints() == null ? t.dtype() + " data" : t.ints().length + " ints") + " but the microbatch is "
          + microbatchSize);
    }
    return t.ints();
  }
}
