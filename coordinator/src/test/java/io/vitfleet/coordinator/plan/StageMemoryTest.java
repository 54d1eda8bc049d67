package io.vitfleet.coordinator.plan;

import static io.vitfleet.coordinator.plan.PlanFixtures.TI4;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vitfleet.model.CostModel;
import io.vitfleet.model.LayerCost;
import org.junit.jupiter.api.Test;

class StageMemoryTest {

  @Test
  void aWholeModelStageHoldsParamsTwoAccumulatorsOneMicrobatchAndTheRuntime() {
    StageMemory m = StageMemory.of(TI4, 0, 1, 0, 12, 8, 4, 2);
    long params = 4 * CostModel.totalParams(TI4);
    long saved = CostModel.layers(TI4).stream().mapToLong(LayerCost::savedBytesPerImage).sum();
    assertEquals(params, m.paramBytes());
    assertEquals(2 * params, m.gradientBytes());
    assertEquals(1, m.microbatchesInFlight());
    assertEquals(8 * saved, m.activationBytes());
    assertEquals(params + 2 * params + 8 * saved + (256L << 20), m.totalBytes());
  }

  @Test
  void under1F1bStageSOfPKeepsPMinusSMicrobatchesInFlight() {
    assertEquals(4, StageMemory.of(TI4, 0, 4, 0, 3, 8, 4, 2).microbatchesInFlight());
    assertEquals(3, StageMemory.of(TI4, 1, 4, 3, 6, 8, 4, 2).microbatchesInFlight());
    assertEquals(1, StageMemory.of(TI4, 3, 4, 9, 12, 8, 4, 2).microbatchesInFlight());
  }

  @Test
  void aReplicaWithFewMicrobatchesNeverHoldsMoreThanItHas() {
    StageMemory m = StageMemory.of(TI4, 0, 6, 0, 2, 8, 1, 2);
    assertEquals(2, m.microbatchesInFlight());
    assertEquals(1, m.accumulators());
    assertEquals(m.paramBytes(), m.gradientBytes());
  }

  @Test
  void sizesPrintInMibBelowAGibAndGibAbove() {
    assertEquals("100.0 MiB", StageMemory.bytes(100L << 20));
    assertEquals("3.2 GiB", StageMemory.bytes((long) (3.2 * (1L << 30))));
  }
}
