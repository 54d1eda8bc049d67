package io.vitfleet.feeder.actor;

import io.vitfleet.feeder.BatchPlan;
import io.vitfleet.feeder.TrainingBatches;
import io.vitfleet.protocol.control.Endpoint;
import io.vitfleet.protocol.control.Install;
import io.vitfleet.protocol.control.Plan;
import io.vitfleet.protocol.frame.FrameKind;
import io.vitfleet.protocol.frame.TensorDescriptor;
import io.vitfleet.protocol.link.DataPlane;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Consumer;
import org.agrona.concurrent.Agent;

/**
 * The feeder's sending loop, off the actor's thread: fills each microbatch of a begun step with
 * {@link TrainingBatches#fill} and sends its images to stage 0 and its labels to the last stage of the replica that
 * owns its group (docs/cluster.md, "Data plane"). One microbatch per {@link #doWork} call, so an abort takes effect at
 * the next microbatch boundary. Steps are sent in the order they were begun.
 *
 * <p>{@link #submit}, {@link #abort} and {@link #cancelAll} are called by the actor; everything else runs on the
 * agent's thread. A failed send is reported and the rest of that replica's microbatches of the step are skipped (its
 * step cannot complete, and a dead peer would stall every later send for the connect timeout); other replicas go on.
 */
final class MicrobatchStreamer implements Agent {

  /** What the streamer tells its owner; delivered on the agent's thread. */
  sealed interface Event {
  }

  /**
   * Step {@code step} of plan {@code planVersion} is done: {@code sent} of its {@code planned} microbatches went out
   * whole; the rest were aborted or skipped after a failed send.
   */
  record StepStreamed(long step, int planVersion, int sent, int planned, boolean aborted) implements Event {
  }

  /** A send to {@code peer} failed; the rest of replica {@code replica}'s microbatches of the step are skipped. */
  record SendFailed(long step, int planVersion, int replica, int microbatch, String peer, String reason)
      implements Event {
  }

  /** A microbatch could not be produced; the rest of the step is dropped. */
  record StepFailed(long step, int planVersion, int microbatch, RuntimeException cause) implements Event {
  }

  /** One begun step: the (replica, microbatch) sends in protocol order, and where each replica's tensors go. */
  private static final class Order {
    final long step;
    final int planVersion;
    final int lastStage;
    final int[] replicas;
    final int[] microbatches;
    final Endpoint[] firstStage;
    final Endpoint[] lastStageEndpoints;
    final boolean[] replicaFailed;
    volatile boolean cancelled;
    int next;
    int sent;

    Order(Install install, long step, BatchPlan job) {
      Plan plan = install.plan();
      this.step = step;
      this.planVersion = plan.version();
      this.lastStage = plan.pipelineDepth() - 1;
      List<int[]> sends = new ArrayList<>();
      for (Plan.ReplicaGroups rg : plan.replicaGroups()) {
        for (int g : rg.groups()) {
          for (int k = job.firstMicrobatch(g); k < job.endMicrobatch(g); k++) {
            sends.add(new int[] {rg.replica(), k});
          }
        }
      }
      this.replicas = sends.stream().mapToInt(s -> s[0]).toArray();
      this.microbatches = sends.stream().mapToInt(s -> s[1]).toArray();
      int d = plan.dataParallel();
      this.firstStage = new Endpoint[d];
      this.lastStageEndpoints = new Endpoint[d];
      for (int r = 0; r < d; r++) {
        firstStage[r] = install.workerEndpoint(r, 0);
        lastStageEndpoints[r] = install.workerEndpoint(r, lastStage);
      }
      this.replicaFailed = new boolean[d];
    }

    int planned() {
      return microbatches.length;
    }
  }

  private final TrainingBatches batches;
  private final DataPlane dataPlane;
  private final String memberId;
  private final Consumer<Event> events;
  private final Queue<Order> orders = new ConcurrentLinkedQueue<>();
  private final float[] images;
  private final int[] labels;
  private final TensorDescriptor imageFrame;
  private final TensorDescriptor labelFrame;

  /**
   * @param batches used only by this streamer's thread once it runs
   * @param events where steps finished and failed sends are reported
   */
  MicrobatchStreamer(TrainingBatches batches, DataPlane dataPlane, String memberId, Consumer<Event> events) {
    this.batches = batches;
    this.dataPlane = dataPlane;
    this.memberId = memberId;
    this.events = events;
    this.images = new float[batches.imageFloatsPerMicrobatch()];
    this.labels = new int[batches.labelsPerMicrobatch()];
    this.imageFrame = new TensorDescriptor().kind(FrameKind.IMAGES).stage(0).tensorId(0).shape(batches.imageShape());
    this.labelFrame = new TensorDescriptor().kind(FrameKind.LABELS).tensorId(0).shape(batches.labelsPerMicrobatch());
  }

  /**
   * Queues step {@code step} under {@code install}'s plan.
   *
   * @throws IllegalArgumentException if the install lacks the endpoint of a worker the step sends to
   */
  void submit(Install install, long step) {
    orders.add(new Order(install, step, batches.plan()));
  }

  /** Stops sending step {@code step}, whichever plan it was begun under, at the next microbatch boundary. */
  void abort(long step) {
    for (Order o : orders) {
      if (o.step == step) {
        o.cancelled = true;
      }
    }
  }

  /** Stops sending every step begun so far (a new plan is being installed). */
  void cancelAll() {
    for (Order o : orders) {
      o.cancelled = true;
    }
  }

  @Override
  public int doWork() {
    Order o = orders.peek();
    if (o == null) {
      return 0;
    }
    if (o.cancelled || o.next == o.planned()) {
      orders.poll();
      events.accept(new StepStreamed(o.step, o.planVersion, o.sent, o.planned(), o.cancelled));
      return 1;
    }
    int i = o.next++;
    int replica = o.replicas[i];
    if (!o.replicaFailed[replica]) {
      sendMicrobatch(o, replica, o.microbatches[i]);
    }
    return 1;
  }

  private void sendMicrobatch(Order o, int replica, int k) {
    try {
      batches.fill(o.step, k, images, labels);
    } catch (RuntimeException e) {
      o.cancelled = true;
      events.accept(new StepFailed(o.step, o.planVersion, k, e));
      return;
    }
    imageFrame.planVersion(o.planVersion).step(o.step).microbatchOrGroup(k);
    labelFrame.planVersion(o.planVersion).step(o.step).microbatchOrGroup(k).stage(o.lastStage);
    Endpoint peer = o.firstStage[replica];
    try {
      dataPlane.send(peer, imageFrame, images);
      peer = o.lastStageEndpoints[replica];
      dataPlane.send(peer, labelFrame, labels);
      o.sent++;
    } catch (DataPlane.LinkException e) {
      o.replicaFailed[replica] = true;
      events.accept(new SendFailed(o.step, o.planVersion, replica, k, peer.memberId(), e.getMessage()));
    }
  }

  @Override
  public String roleName() {
    return memberId + "-sender";
  }
}
