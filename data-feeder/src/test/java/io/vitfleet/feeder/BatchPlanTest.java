package io.vitfleet.feeder;

import static io.vitfleet.feeder.IdxFileTest.assertContains;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class BatchPlanTest {
  @Test
  void shouldPlaceSlotJOfMicrobatchKOfStepTAtTBPlusKbPlusJ() {
    BatchPlan plan = new BatchPlan(512, 32, 4);
    assertEquals(16, plan.microbatches());
    assertEquals(4, plan.microbatchesPerGroup());
    assertEquals(0, plan.position(0, 0, 0));
    assertEquals(3L * 512 + 5 * 32 + 7, plan.position(3, 5, 7));
    assertEquals(3L * 512 + 5 * 32, plan.firstPosition(3, 5));
    assertEquals(3L * 512, plan.firstPosition(3));
  }

  @Test
  void shouldSplitMicrobatchesIntoConsecutiveGroupsInOrder() {
    BatchPlan plan = new BatchPlan(48, 4, 3);
    int expected = 0;
    for (int g = 0; g < plan.groups(); g++) {
      assertEquals(expected, plan.firstMicrobatch(g));
      for (int k = plan.firstMicrobatch(g); k < plan.endMicrobatch(g); k++) {
        assertEquals(g, plan.groupOf(k));
        expected++;
      }
    }
    assertEquals(plan.microbatches(), expected);
  }

  @Test
  void shouldCountStepsPerEpochAsAFraction() {
    assertEquals(60_000 / 512.0, new BatchPlan(512, 64, 2).stepsPerEpoch(60_000));
  }

  @Test
  void shouldRejectAGlobalBatchThatIsNotAMultipleOfTheMicrobatchAndSuggestDivisors() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new BatchPlan(1000, 64, 1));
    assertEquals("global batch size B = 1000 is not a multiple of the microbatch size b = 64; choose a b that"
        + " divides B, e.g. b = 50 or b = 100", e.getMessage());
  }

  @Test
  void shouldRejectGroupsThatDoNotDivideTheMicrobatchCount() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new BatchPlan(1024, 64, 3));
    assertEquals("the K = 16 microbatches per step (B / b = 1024 / 64) do not split into groups G = 3; choose a G"
        + " that divides K, e.g. G = 2 or G = 4", e.getMessage());
  }

  @Test
  void shouldRejectSizesOutOfRangeNamingTheSetting() {
    assertContains(assertThrows(IllegalArgumentException.class, () -> new BatchPlan(0, 1, 1)), "global batch size B");
    assertContains(assertThrows(IllegalArgumentException.class, () -> new BatchPlan(8, 16, 1)), "microbatch size b");
    assertContains(assertThrows(IllegalArgumentException.class, () -> new BatchPlan(8, 2, 8)), "groups G",
        "1..K = 4");
    assertContains(assertThrows(IllegalArgumentException.class, () -> new BatchPlan(8, 2, 0)), "groups G");
  }

  @Test
  void shouldRejectSlotsAndMicrobatchesOutsideTheStep() {
    BatchPlan plan = new BatchPlan(8, 2, 2);
    assertThrows(IndexOutOfBoundsException.class, () -> plan.position(0, 4, 0));
    assertThrows(IndexOutOfBoundsException.class, () -> plan.position(0, 0, 2));
    assertThrows(IllegalArgumentException.class, () -> plan.position(-1, 0, 0));
    assertThrows(ArithmeticException.class, () -> plan.firstPosition(Long.MAX_VALUE / 4));
  }
}
