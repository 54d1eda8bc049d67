package io.vitfleet.paramstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WeightDecayRulesTest {

  @Test
  void shouldDecayTheHeadKernelHundredfoldAndOtherKernelsOnce() {
    WeightDecayRules r = WeightDecayRules.paper();
    assertEquals(100.0, r.multiplier("head/kernel"));
    assertEquals(1.0, r.multiplier("encoder/block_7/mlp/dense_0/kernel"));
    assertEquals(1.0, r.multiplier("encoder/block_0/attention/query/kernel"));
    assertEquals(1.0, r.multiplier("embedding/kernel"));
    assertEquals(1.0, r.multiplier("map_head/mlp/dense_1/kernel"), "the MAP head's MLP is body, not head/kernel");
  }

  @Test
  void shouldNotDecayBiasesNormsPositionEmbeddingsOrTheProbe() {
    WeightDecayRules r = WeightDecayRules.paper();
    for (String name : List.of("head/bias", "embedding/bias", "pos_embedding", "map_head/probe",
        "encoder/encoder_norm/scale", "encoder/block_0/layer_norm_0/bias", "kernel", "head/kernel2")) {
      assertEquals(0.0, r.multiplier(name), name);
    }
  }

  @Test
  void shouldLetTheFirstFullMatchWin() {
    WeightDecayRules r = WeightDecayRules.of(List.of(Map.entry(".*/kernel", 2.0), Map.entry(".*head/kernel", 100.0),
        Map.entry("block", 5.0)));
    assertEquals(2.0, r.multiplier("head/kernel"), "the earlier rule wins");
    assertEquals(0.0, r.multiplier("encoder/block_0/x"), "'block' must match the whole name, not a part");
    assertEquals(0.0, WeightDecayRules.none().multiplier("head/kernel"));
  }

  @Test
  void shouldRejectBadRulesNamingThem() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> WeightDecayRules.of(List.of(Map.entry("(unclosed", 1.0))));
    assertTrue(e.getMessage().contains("(unclosed"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> WeightDecayRules.of(List.of(Map.entry(".*", -1.0))));
    assertTrue(e.getMessage().contains("multiplier"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new WeightDecayRules.Rule("", 1.0));
    assertThrows(IllegalArgumentException.class, () -> new WeightDecayRules.Rule(".*", Double.NaN));
  }
}
