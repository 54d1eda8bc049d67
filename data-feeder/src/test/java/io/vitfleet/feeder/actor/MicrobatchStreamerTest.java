package io.vitfleet.feeder.actor;

import static io.vitfleet.feeder.actor.FeederFixtures.JOB;
import static io.vitfleet.feeder.actor.FeederFixtures.assertMicrobatch;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitfleet.feeder.TrainingBatches;
import io.vitfleet.feeder.actor.FeederFixtures.ReceivingWorker;
import io.vitfleet.protocol.control.Install;
import io.vitfleet.protocol.frame.FrameKind;
import io.vitfleet.protocol.link.DataPlane;
import io.vitfleet.protocol.link.EmbeddedMediaDriver;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.agrona.CloseHelper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sending loop driven by hand, one {@code doWork} at a time, against a real embedded media driver: P = 1, so
 * each replica's single worker gets images and labels on one link, in the order they were sent.
 */
class MicrobatchStreamerTest {
  private static final int PLAN = 3;

  @TempDir
  static Path tmp;
  private static EmbeddedMediaDriver driver;
  private static final Queue<Throwable> ERRORS = new ConcurrentLinkedQueue<>();

  private final TrainingBatches reference = FeederFixtures.batches();
  private final List<MicrobatchStreamer.Event> events = new ArrayList<>();
  private DataPlane feeder;
  private ReceivingWorker replica0;
  private ReceivingWorker replica1;
  private MicrobatchStreamer streamer;
  private Install install;

  @BeforeAll
  static void startDriver() {
    driver = EmbeddedMediaDriver.launch(tmp.resolve("aeron"), EmbeddedMediaDriver.Settings.DEFAULTS, ERRORS::add);
  }

  @AfterAll
  static void stopDriver() {
    CloseHelper.close(driver);
    assertTrue(ERRORS.isEmpty(), () -> "media driver errors: " + ERRORS);
  }

  @BeforeEach
  void connect() {
    feeder = DataPlane.connect(driver.directory(),
        DataPlane.ipcEndpoint(FeederSettings.MEMBER_ID, FeederFixtures.nextStreamId()), JOB, t -> { });
    replica0 = new ReceivingWorker(driver.directory(), "r0");
    replica1 = new ReceivingWorker(driver.directory(), "r1");
    replica0.plane.acceptPlan(PLAN);
    replica1.plane.acceptPlan(PLAN);
    streamer = new MicrobatchStreamer(FeederFixtures.batches(), feeder, FeederSettings.MEMBER_ID, events::add);
    // Replica 0 owns groups 3 and 1 (microbatches 6, 7 then 2, 3); replica 1 owns 0 and 2 (0, 1 then 4, 5).
    install = FeederFixtures.install(PLAN, 1, List.of(List.of(3, 1), List.of(0, 2)),
        new DataPlane[][] {{replica0.plane}, {replica1.plane}});
  }

  @AfterEach
  void close() {
    CloseHelper.closeAll(feeder, replica0, replica1);
  }

  /** Calls doWork until the step in flight is reported done, and returns that report. */
  private MicrobatchStreamer.StepStreamed runUntilStepDone() {
    int before = events.size();
    while (events.stream().skip(before).noneMatch(e -> e instanceof MicrobatchStreamer.StepStreamed)) {
      streamer.doWork();
    }
    return (MicrobatchStreamer.StepStreamed) events.get(events.size() - 1);
  }

  private void expectMicrobatches(ReceivingWorker worker, long step, int... microbatches) throws Exception {
    for (int k : microbatches) {
      assertMicrobatch(worker.next(), FrameKind.IMAGES, step, PLAN, k, 0, reference);
      assertMicrobatch(worker.next(), FrameKind.LABELS, step, PLAN, k, 0, reference);
    }
  }

  @Test
  void shouldSendEachReplicaItsGroupsInPlanOrderAndEachGroupsMicrobatchesInIndexOrder() throws Exception {
    streamer.submit(install, 9);

    assertEquals(new MicrobatchStreamer.StepStreamed(9, PLAN, 8, 8, false), runUntilStepDone());
    expectMicrobatches(replica0, 9, 6, 7, 2, 3);
    expectMicrobatches(replica1, 9, 0, 1, 4, 5);
    assertEquals(1, events.size(), () -> "events: " + events);
  }

  @Test
  void shouldStopAnAbortedStepAtTheNextMicrobatchBoundaryAndGoOnWithTheNextStep() throws Exception {
    streamer.submit(install, 4);
    streamer.doWork();
    streamer.doWork();
    streamer.abort(4);
    streamer.submit(install, 4);

    assertEquals(new MicrobatchStreamer.StepStreamed(4, PLAN, 2, 8, true), runUntilStepDone());
    assertEquals(new MicrobatchStreamer.StepStreamed(4, PLAN, 8, 8, false), runUntilStepDone());
    // Each link delivers in send order: replica 0 saw two microbatches of the aborted run, then the whole rerun;
    // replica 1 saw nothing of the aborted run.
    expectMicrobatches(replica0, 4, 6, 7);
    expectMicrobatches(replica0, 4, 6, 7, 2, 3);
    expectMicrobatches(replica1, 4, 0, 1, 4, 5);
  }

  @Test
  void shouldDropEveryQueuedStepWhenCancelledForANewPlan() throws Exception {
    streamer.submit(install, 1);
    streamer.submit(install, 2);
    streamer.doWork();
    streamer.cancelAll();
    streamer.submit(install, 3);

    assertEquals(new MicrobatchStreamer.StepStreamed(1, PLAN, 1, 8, true), runUntilStepDone());
    assertEquals(new MicrobatchStreamer.StepStreamed(2, PLAN, 0, 8, true), runUntilStepDone());
    assertEquals(new MicrobatchStreamer.StepStreamed(3, PLAN, 8, 8, false), runUntilStepDone());
    expectMicrobatches(replica0, 1, 6);
    expectMicrobatches(replica0, 3, 6, 7, 2, 3);
    expectMicrobatches(replica1, 3, 0, 1, 4, 5);
  }

  @Test
  void shouldSayItIsIdleWhenNoStepIsBegun() {
    assertEquals(0, streamer.doWork());
  }
}
