package io.vitfleet.feeder.order;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitfleet.feeder.BatchPlan;
import io.vitfleet.feeder.BatchSlot;
import io.vitfleet.feeder.SampleSchedule;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SampleStreamTest {
  private static final long THREE_BILLION = 3_000_000_000L;
  /** B = 192, b = 4, G = 24: K = 48 microbatches, 2 per group; 24 groups split over 1, 2, 3, 8 (and 5) replicas. */
  private static final BatchPlan PLAN = new BatchPlan(192, 4, 24);

  private static SampleStream billionStream() {
    return new SampleStream(ShardedEpochOrder.uniform(THREE_BILLION, 30_011, 32), 1234, PLAN);
  }

  @ParameterizedTest(name = "{0} replicas")
  @ValueSource(ints = {1, 2, 3, 5, 8})
  void shouldStreamTheSameSamplesForAStepWhateverTheNumberOfReplicas(int replicas) {
    // The step straddling the end of epoch 0, and a step deep into a later epoch.
    long boundaryStep = THREE_BILLION / PLAN.globalBatch();
    for (long step : new long[] {0, boundaryStep, 3 * boundaryStep + 77}) {
      long[] reference = new long[PLAN.globalBatch()];
      SampleStream one = billionStream();
      for (int p = 0; p < reference.length; p++) {
        reference[p] = one.sampleAt(step * PLAN.globalBatch() + p);
      }
      long[] streamed = new long[PLAN.globalBatch()];
      int next = 0;
      long[] indices = new long[PLAN.microbatch()];
      long[] epochs = new long[PLAN.microbatch()];
      for (int r = 0; r < replicas; r++) {
        // Each replica's feeder is its own process: its own order object, nothing shared.
        SampleStream feeder = billionStream();
        GroupRange groups = GroupRange.of(PLAN, r, replicas);
        for (int k = groups.firstMicrobatch(PLAN); k < groups.endMicrobatch(PLAN); k++) {
          feeder.microbatch(step, k, indices, epochs);
          for (int j = 0; j < PLAN.microbatch(); j++) {
            assertEquals(feeder.epochAt(PLAN.position(step, k, j)), epochs[j]);
            streamed[next++] = indices[j];
          }
        }
      }
      assertEquals(PLAN.globalBatch(), next, "the replicas' groups cover the step exactly");
      assertArrayEquals(reference, streamed, replicas + " replicas, step " + step);
    }
  }

  @Test
  void shouldReproduceTheStreamWhenResumedAtAnyStep() {
    SampleStream continuous = billionStream();
    SplittableRandom random = new SplittableRandom(9);
    long boundaryStep = THREE_BILLION / PLAN.globalBatch();
    long[] resumeSteps = {1, boundaryStep - 1, boundaryStep, boundaryStep + 1, random.nextLong(1L << 30),
        random.nextLong(1L << 30)};
    for (long resume : resumeSteps) {
      long[][] walked = new long[4][];
      for (long step = resume - 1; step < resume + 4; step++) {
        long[] s = stepSamples(continuous, step);
        if (step >= resume) {
          walked[(int) (step - resume)] = s;
        }
      }
      SampleStream restarted = billionStream();
      for (int i = 0; i < 4; i++) {
        assertArrayEquals(walked[i], stepSamples(restarted, resume + i), "step " + (resume + i) + " after a restart"
            + " at " + resume);
      }
    }
  }

  @Test
  void shouldKeepEachEpochExactlyOnceAcrossSteps() {
    // N = 1000 is not a multiple of B = 24: steps straddle epochs, yet each epoch has every sample once.
    SampleStream stream = new SampleStream(ShardedEpochOrder.uniform(1_000, 9, 2), 3, new BatchPlan(24, 8, 3));
    java.util.BitSet[] epochs = {new java.util.BitSet(), new java.util.BitSet(), new java.util.BitSet()};
    for (long step = 0; step * 24 < 3_000; step++) {
      long[] s = stepSamples(stream, step);
      for (int p = 0; p < 24; p++) {
        long position = step * 24 + p;
        if (position < 3_000) {
          int epoch = (int) stream.epochAt(position);
          assertTrue(!epochs[epoch].get((int) s[p]), "sample " + s[p] + " twice in epoch " + epoch);
          epochs[epoch].set((int) s[p]);
        }
      }
    }
    for (java.util.BitSet epoch : epochs) {
      assertEquals(1_000, epoch.cardinality());
    }
  }

  @Test
  void shouldLocateASampleWhereTheStreamPutsIt() {
    SampleStream stream = billionStream();
    SplittableRandom random = new SplittableRandom(4);
    for (int trial = 0; trial < 1_000; trial++) {
      long epoch = trial < 500 ? 0 : 7;
      long index = random.nextLong(THREE_BILLION);
      BatchSlot slot = stream.locate(epoch, index);
      assertEquals(index, stream.sample(slot.step(), slot.microbatch(), slot.slot()));
    }
  }

  @Test
  void shouldGiveExactlyTheOriginalScheduleOverTheFeistelOrder() {
    BatchPlan plan = new BatchPlan(24, 4, 2);
    SampleSchedule schedule = new SampleSchedule(1_000, 77, plan);
    SampleStream stream = new SampleStream(EpochPermutation.feistel(1_000), 77, plan);
    for (long step = 0; step < 100; step++) {
      for (int k = 0; k < plan.microbatches(); k++) {
        for (int j = 0; j < plan.microbatch(); j++) {
          assertEquals(schedule.sample(step, k, j), stream.sample(step, k, j));
        }
      }
    }
  }

  @Test
  void shouldSplitGroupsEvenlyAndRejectMoreReplicasThanGroups() {
    assertEquals(new GroupRange(0, 8), GroupRange.of(PLAN, 0, 3));
    assertEquals(new GroupRange(16, 24), GroupRange.of(PLAN, 2, 3));
    assertEquals(new GroupRange(4, 9), GroupRange.of(PLAN, 1, 5));
    assertEquals(8, GroupRange.of(PLAN, 1, 5).firstMicrobatch(PLAN));
    assertEquals(18, GroupRange.of(PLAN, 1, 5).endMicrobatch(PLAN));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> GroupRange.of(PLAN, 0, 25)).getMessage()
        .contains("G = 24"));
  }

  private static long[] stepSamples(SampleStream stream, long step) {
    BatchPlan plan = stream.plan();
    long[] out = new long[plan.globalBatch()];
    long[] indices = new long[plan.microbatch()];
    long[] epochs = new long[plan.microbatch()];
    for (int k = 0; k < plan.microbatches(); k++) {
      stream.microbatch(step, k, indices, epochs);
      System.arraycopy(indices, 0, out, k * plan.microbatch(), plan.microbatch());
    }
    return out;
  }
}
