package io.vitfleet.feeder.actor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.vitfleet.feeder.BatchPlan;
import io.vitfleet.feeder.ImageDataset;
import io.vitfleet.feeder.Normalization;
import io.vitfleet.feeder.TrainingBatches;
import io.vitfleet.protocol.control.Endpoint;
import io.vitfleet.protocol.control.Install;
import io.vitfleet.protocol.control.Plan;
import io.vitfleet.protocol.frame.FrameKind;
import io.vitfleet.protocol.link.DataPlane;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** A tiny job (40 images of 4x4, B = 16, b = 2, G = 4), plans over it, and workers that record what they receive. */
final class FeederFixtures {
  static final long JOB = 0xF00DL;
  static final BatchPlan UNITS = new BatchPlan(16, 2, 4);
  static final long SEED = 77;
  private static final AtomicInteger STREAMS = new AtomicInteger(3100);
  /** How long a receiver waits for a tensor before the test fails: a bound on a hung link, not a timing claim. */
  private static final long RECEIVE_TIMEOUT_S = 30;

  private FeederFixtures() {
  }

  static ImageDataset tinyDataset() {
    int n = 40;
    byte[] pixels = new byte[n * 16];
    new Random(5).nextBytes(pixels);
    byte[] labels = new byte[n];
    for (int i = 0; i < n; i++) {
      labels[i] = (byte) (i % 10);
    }
    return new ImageDataset("tiny synthetic", pixels, labels, 4, 4, 1, 10);
  }

  /** The job's microbatches; flips and shifts on, so the augmentation's bytes are checked too. */
  static TrainingBatches batches() {
    return TrainingBatches.of(tinyDataset(), Normalization.minusOneToOne(), SEED, UNITS, 1, true);
  }

  static int nextStreamId() {
    return STREAMS.incrementAndGet();
  }

  /** Worker {@code "w-" + replica + "-" + stage}. */
  static String worker(int replica, int stage) {
    return "w-" + replica + "-" + stage;
  }

  /**
   * Plan {@code version}: P stages of one block each, one replica per entry of {@code groups}, and the data endpoint
   * of worker (r, s) being {@code endpointOf[r][s]}'s channel and stream under the worker's own member id.
   */
  static Install install(int version, int depth, List<List<Integer>> groups, DataPlane[][] endpointOf) {
    List<Plan.StageLayers> stages = new ArrayList<>();
    List<List<Integer>> stageTensors = new ArrayList<>();
    for (int s = 0; s < depth; s++) {
      stages.add(new Plan.StageLayers(s, s, s + 1));
      stageTensors.add(List.of(s));
    }
    List<Plan.WorkerAssignment> workers = new ArrayList<>();
    List<Plan.ReplicaGroups> replicaGroups = new ArrayList<>();
    List<Endpoint> endpoints = new ArrayList<>();
    for (int r = 0; r < groups.size(); r++) {
      replicaGroups.add(new Plan.ReplicaGroups(r, groups.get(r)));
      for (int s = 0; s < depth; s++) {
        workers.add(new Plan.WorkerAssignment(worker(r, s), r, s));
        Endpoint e = endpointOf[r][s].self();
        endpoints.add(new Endpoint(worker(r, s), e.channel(), e.streamId()));
      }
    }
    Plan plan = new Plan(JOB, version, depth, groups.size(), stages, workers, List.of(0), UNITS.microbatch(),
        replicaGroups);
    return new Install(JOB, 0, plan, endpoints, stageTensors);
  }

  /** A worker's data plane that keeps every tensor it receives, in arrival order. */
  static final class ReceivingWorker implements AutoCloseable {
    final DataPlane plane;
    private final LinkedBlockingQueue<DataPlane.Tensor> received = new LinkedBlockingQueue<>();

    ReceivingWorker(String aeronDir, String memberId) {
      this.plane = DataPlane.connect(aeronDir, DataPlane.ipcEndpoint(memberId, nextStreamId()), JOB, received::add);
    }

    /** The next tensor to arrive within {@code millis}, or null. */
    DataPlane.Tensor poll(long millis) throws InterruptedException {
      return received.poll(millis, TimeUnit.MILLISECONDS);
    }

    /** The next tensor to arrive. */
    DataPlane.Tensor next() throws InterruptedException {
      DataPlane.Tensor t = received.poll(RECEIVE_TIMEOUT_S, TimeUnit.SECONDS);
      assertNotNull(t, "no tensor arrived within " + RECEIVE_TIMEOUT_S + " s; drops " + plane.drops());
      return t;
    }

    @Override
    public void close() {
      plane.close();
    }
  }

  /** Asserts {@code t} is microbatch k of step t under plan v, with exactly the bytes {@code reference} gives. */
  static void assertMicrobatch(DataPlane.Tensor t, FrameKind kind, long step, int version, int k, int stage,
                               TrainingBatches reference) {
    String what = kind + " of step " + step + ", microbatch " + k;
    assertEquals(kind, t.kind(), what);
    assertEquals(step, t.step(), what);
    assertEquals(version, t.planVersion(), what);
    assertEquals(k, t.index(), what);
    assertEquals(stage, t.stage(), what);
    assertEquals(0, t.tensorId(), what);
    float[] images = new float[reference.imageFloatsPerMicrobatch()];
    int[] labels = new int[reference.labelsPerMicrobatch()];
    reference.fill(step, k, images, labels);
    if (kind == FrameKind.IMAGES) {
      assertArrayEquals(reference.imageShape(), t.shape(), what);
      assertArrayEquals(bits(images), bits(t.floats()), what);
    } else {
      assertArrayEquals(new int[] {reference.labelsPerMicrobatch()}, t.shape(), what);
      assertArrayEquals(labels, t.ints(), what);
    }
  }

  private static int[] bits(float[] values) {
    int[] bits = new int[values.length];
    for (int i = 0; i < values.length; i++) {
      bits[i] = Float.floatToRawIntBits(values[i]);
    }
    return bits;
  }
}
