package io.vitfleet.coordinator.plan;

import static io.vitfleet.coordinator.plan.PlanFixtures.TI4;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitfleet.model.ViTConfig;
import io.vitfleet.model.ViTParameters;
import io.vitfleet.protocol.ParameterManifest;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChunkShardingTest {

  @Test
  void everyTensorHasExactlyOneShardInRange() {
    ParameterManifest m = ViTParameters.manifest(TI4);
    for (int shards = 1; shards <= 6; shards++) {
      List<Integer> owner = ChunkSharding.assign(m, shards);
      assertEquals(m.count(), owner.size());
      for (int shard : owner) {
        assertTrue(shard >= 0 && shard < shards, "shard " + shard + " of " + shards);
      }
    }
  }

  @Test
  void theBusiestShardHoldsAtMostTheMeanPlusOneTensor() {
    for (ViTConfig c : List.of(TI4, ViTConfig.of("B/16", 224, 3, 1000))) {
      ParameterManifest m = ViTParameters.manifest(c);
      long largest = m.specs().stream().mapToLong(s -> s.size()).max().orElseThrow();
      for (int shards = 1; shards <= 8; shards++) {
        List<Integer> owner = ChunkSharding.assign(m, shards);
        long[] load = new long[shards];
        for (int i = 0; i < m.count(); i++) {
          load[owner.get(i)] += m.get(i).size();
        }
        long busiest = java.util.Arrays.stream(load).max().orElseThrow();
        assertTrue(busiest <= m.totalSize() / shards + largest, c.name() + " on " + shards + " shards: " + busiest);
      }
    }
  }

  @Test
  void theSameManifestAlwaysGivesTheSameAssignment() {
    ParameterManifest m = ViTParameters.manifest(TI4);
    assertEquals(ChunkSharding.assign(m, 3), ChunkSharding.assign(ViTParameters.manifest(TI4), 3));
  }

  @Test
  void zeroShardsIsRefused() {
    PlanningException e = assertThrows(PlanningException.class,
        () -> ChunkSharding.assign(ViTParameters.manifest(TI4), 0));
    assertEquals("0 param-store shards: at least 1 is needed (--shards)", e.getMessage());
  }
}
