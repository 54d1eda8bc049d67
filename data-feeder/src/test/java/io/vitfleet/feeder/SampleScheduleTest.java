package io.vitfleet.feeder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.BitSet;
import org.junit.jupiter.api.Test;

class SampleScheduleTest {
  @Test
  void shouldStreamTheSameSamplesForAStepWhateverTheGrouping() {
    long n = 1000;
    long seed = 5;
    long step = 7;
    long[] expected = new long[24];
    SampleSchedule reference = new SampleSchedule(n, seed, new BatchPlan(24, 24, 1));
    for (int p = 0; p < 24; p++) {
      expected[p] = reference.sampleAt(step * 24 + p);
    }
    int[][] microbatchAndGroups = {{4, 1}, {4, 2}, {4, 3}, {4, 6}, {2, 12}, {8, 3}, {1, 24}};
    for (int[] mg : microbatchAndGroups) {
      SampleSchedule schedule = new SampleSchedule(n, seed, new BatchPlan(24, mg[0], mg[1]));
      BatchPlan plan = schedule.plan();
      long[] streamed = new long[24];
      int next = 0;
      for (int g = 0; g < plan.groups(); g++) {
        for (int k = plan.firstMicrobatch(g); k < plan.endMicrobatch(g); k++) {
          for (int j = 0; j < plan.microbatch(); j++) {
            streamed[next++] = schedule.sample(step, k, j);
          }
        }
      }
      assertArrayEquals(expected, streamed, "b = " + mg[0] + ", G = " + mg[1]);
    }
  }

  @Test
  void shouldCrossAnEpochBoundaryInsideAStepWithEachEpochComplete() {
    // N = 10, B = 4: step 2 covers positions 8..11, the last two of epoch 0 and the first two of epoch 1.
    SampleSchedule schedule = new SampleSchedule(10, 3, new BatchPlan(4, 2, 2));
    EpochOrder order = new EpochOrder(10);
    assertEquals(0, schedule.epochOf(2));
    assertEquals(1, schedule.lastEpochOf(2));
    assertEquals(order.index(3, 0, 8), schedule.sample(2, 0, 0));
    assertEquals(order.index(3, 0, 9), schedule.sample(2, 0, 1));
    assertEquals(order.index(3, 1, 0), schedule.sample(2, 1, 0));
    assertEquals(order.index(3, 1, 1), schedule.sample(2, 1, 1));

    BitSet[] epochs = {new BitSet(), new BitSet(), new BitSet()};
    for (long step = 0; step < 30 / 4 + 1; step++) {
      for (int k = 0; k < 2; k++) {
        for (int j = 0; j < 2; j++) {
          long p = schedule.plan().position(step, k, j);
          if (p < 30) {
            int sample = (int) schedule.sample(step, k, j);
            assertFalse(epochs[(int) (p / 10)].get(sample), "sample " + sample + " twice in epoch " + p / 10);
            epochs[(int) (p / 10)].set(sample);
          }
        }
      }
    }
    for (BitSet epoch : epochs) {
      assertEquals(10, epoch.cardinality());
    }
  }

  @Test
  void shouldHandleAGlobalBatchLargerThanTheDataSet() {
    SampleSchedule schedule = new SampleSchedule(3, 1, new BatchPlan(8, 8, 1));
    assertEquals(2, schedule.epochOf(1));
    assertEquals(5, schedule.lastEpochOf(1));
    for (int epoch = 0; epoch < 5; epoch++) {
      BitSet seen = new BitSet();
      for (int p = 0; p < 3; p++) {
        seen.set((int) schedule.sampleAt(epoch * 3L + p));
      }
      assertEquals(3, seen.cardinality());
    }
  }

  @Test
  void shouldLocateWhereEachSampleLands() {
    SampleSchedule schedule = new SampleSchedule(77, 11, new BatchPlan(12, 3, 2));
    for (long epoch = 0; epoch < 3; epoch++) {
      for (long i = 0; i < 77; i++) {
        BatchSlot slot = schedule.locate(epoch, i);
        assertEquals(i, schedule.sample(slot.step(), slot.microbatch(), slot.slot()));
        long position = schedule.plan().position(slot.step(), slot.microbatch(), slot.slot());
        assertEquals(epoch, position / 77);
      }
    }
  }

  @Test
  void shouldReportStepsPerEpoch() {
    assertEquals(60_000 / 256.0, new SampleSchedule(60_000, 0, new BatchPlan(256, 32, 4)).stepsPerEpoch());
  }
}
