package io.vitfleet.coordinator.plan;

import static io.vitfleet.coordinator.plan.PlanFixtures.TI4;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitfleet.model.CostModel;
import io.vitfleet.model.ViTConfig;
import io.vitfleet.protocol.control.Plan.StageLayers;
import java.util.List;
import org.junit.jupiter.api.Test;

class StagePartitionTest {

  @Test
  void stagesAreContiguousNonEmptyAndCoverEveryBlockForEveryDepth() {
    for (ViTConfig c : List.of(TI4, ViTConfig.of("s/16", 224, 3, 1000), ViTConfig.of("L/16", 224, 3, 1000))) {
      for (int p = 1; p <= c.depth(); p++) {
        List<StageLayers> stages = StagePartition.balanced(c, p);
        assertEquals(p, stages.size());
        int next = 0;
        for (int s = 0; s < p; s++) {
          assertEquals(s, stages.get(s).stage());
          assertEquals(next, stages.get(s).firstBlock(), c.name() + " P=" + p + " stage " + s);
          assertTrue(stages.get(s).endBlock() > stages.get(s).firstBlock(), c.name() + " P=" + p + " stage " + s);
          next = stages.get(s).endBlock();
        }
        assertEquals(c.depth(), next);
      }
    }
  }

  @Test
  void theHeaviestStageIsWithinOneBlockAndTheEndLayersOfAnEvenShare() {
    for (ViTConfig c : List.of(TI4, ViTConfig.of("B/16", 224, 3, 1000), ViTConfig.of("G/14", 224, 3, 1000))) {
      long total = CostModel.forwardFlops(c);
      long endLayers = total - c.depth() * CostModel.blockFlops(c);
      for (int p = 1; p <= c.depth(); p++) {
        long heaviest = StagePartition.balanced(c, p).stream()
            .mapToLong(s -> StagePartition.stageFlops(c, s.firstBlock(), s.endBlock())).max().orElseThrow();
        assertTrue(heaviest <= total / p + CostModel.blockFlops(c) + endLayers,
            c.name() + " P=" + p + ": heaviest stage " + heaviest + " vs an even share " + total / p);
      }
    }
  }

  @Test
  void blocksOfEqualCostSplitIntoStagesThatDifferByAtMostOneBlock() {
    for (int p = 1; p <= 12; p++) {
      List<StageLayers> stages = StagePartition.balanced(TI4, p);
      int most = stages.stream().mapToInt(s -> s.endBlock() - s.firstBlock()).max().orElseThrow();
      int fewest = stages.stream().mapToInt(s -> s.endBlock() - s.firstBlock()).min().orElseThrow();
      assertTrue(most - fewest <= 1, "P=" + p + ": " + stages);
    }
  }

  @Test
  void twoStagesOfTi4SplitTheTwelveBlocksInHalf() {
    assertEquals(List.of(new StageLayers(0, 0, 6), new StageLayers(1, 6, 12)), StagePartition.balanced(TI4, 2));
  }

  @Test
  void moreStagesThanBlocksIsRefused() {
    PlanningException e = assertThrows(PlanningException.class, () -> StagePartition.balanced(TI4, 13));
    assertEquals("13 stages for a model of 12 blocks: at most 12 stages", e.getMessage());
  }
}
