package io.vitfleet.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitfleet.worker.PipelineSchedule.Kind;
import io.vitfleet.worker.PipelineSchedule.Op;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class PipelineScheduleTest {

  private static List<Integer> range(int from, int to) {
    return IntStream.range(from, to).boxed().toList();
  }

  /** The schedule written compactly: F3 = forward of microbatch 3, B = backward, FB = fused. */
  private static String compact(List<Op> ops) {
    return ops.stream().map(o -> switch (o.kind()) {
      case FORWARD -> "F" + o.microbatch();
      case BACKWARD -> "B" + o.microbatch();
      case FORWARD_BACKWARD -> "FB" + o.microbatch();
    }).collect(Collectors.joining(" "));
  }

  @Test
  void theLastStageRunsForwardAndBackwardOfEachMicrobatchTogetherInOrder() {
    assertEquals("FB4 FB5 FB6 FB7", compact(PipelineSchedule.of(2, 3, range(4, 8))));
    assertEquals("FB0 FB1", compact(PipelineSchedule.of(0, 1, range(0, 2))));
  }

  @Test
  void theFirstStageWarmsUpWithOneForwardPerLaterStageThenAlternatesThenDrains() {
    assertEquals("F0 F1 F2 F3 B0 F4 B1 F5 B2 B3 B4 B5", compact(PipelineSchedule.of(0, 4, range(0, 6))));
  }

  @Test
  void aMiddleStageWarmsUpWithOneForwardPerStageAfterIt() {
    assertEquals("F0 F1 F2 B0 F3 B1 F4 B2 F5 B3 B4 B5", compact(PipelineSchedule.of(1, 4, range(0, 6))));
    assertEquals("F0 F1 B0 F2 B1 F3 B2 F4 B3 F5 B4 B5", compact(PipelineSchedule.of(2, 4, range(0, 6))));
  }

  @Test
  void theWarmUpIsCutShortWhenTheReplicaHasFewerMicrobatchesThanStages() {
    assertEquals("F6 F7 B6 B7", compact(PipelineSchedule.of(0, 5, List.of(6, 7))));
  }

  @Test
  void microbatchesKeepTheReplicasOrderAcrossItsGroups() {
    // Replica groups [2, 0] with 2 microbatches per group: microbatches 4, 5, 0, 1 in that order.
    assertEquals("F4 F5 F0 B4 F1 B5 B0 B1", compact(PipelineSchedule.of(0, 3, List.of(4, 5, 0, 1))));
  }

  @Test
  void everyScheduleForwardsEachMicrobatchOnceBeforeItsBackwardAndRunsBackwardsInOrder() {
    for (int stages = 1; stages <= 5; stages++) {
      for (int stage = 0; stage < stages; stage++) {
        for (int m = 0; m <= 7; m++) {
          List<Integer> mbs = range(10, 10 + m);
          List<Op> ops = PipelineSchedule.of(stage, stages, mbs);
          String what = "stage " + stage + " of " + stages + ", " + m + " microbatches: " + compact(ops);
          Set<Integer> forwarded = new HashSet<>();
          List<Integer> backwards = new ArrayList<>();
          int inFlight = 0;
          for (Op op : ops) {
            if (op.kind() == Kind.FORWARD) {
              assertTrue(forwarded.add(op.microbatch()), what);
              inFlight++;
            } else {
              if (op.kind() == Kind.BACKWARD) {
                assertTrue(forwarded.contains(op.microbatch()), what);
                inFlight--;
              }
              backwards.add(op.microbatch());
            }
            assertTrue(inFlight <= stages - stage, "stage " + stage + " holds at most P - s inputs: " + what);
          }
          assertEquals(mbs, backwards, what);
          boolean last = stage == stages - 1;
          assertEquals(last ? m : 2 * m, ops.size(), what);
        }
      }
    }
  }

  @Test
  void aStageOutsideThePipelineIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> PipelineSchedule.of(3, 3, range(0, 2)));
    assertThrows(IllegalArgumentException.class, () -> PipelineSchedule.of(-1, 3, range(0, 2)));
  }
}
