package io.vitfleet.paramstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

class OptimizerConfigTest {
  private static final Schedule SCHEDULE = Schedule.rsqrt(1000, 100, 200, 1000);

  @Test
  void shouldDefaultToThePapersSettings() {
    OptimizerConfig c = OptimizerConfig.defaults(SCHEDULE);
    assertEquals(1e-3, c.lr());
    assertEquals(0.03 * 1e-3, c.wd());
    assertEquals(WeightDecayRules.paper(), c.rules());
    assertEquals(0.999, c.beta2Cap());
    assertEquals(0.8, c.decayRate());
    assertEquals(1e-30, c.eps());
    assertEquals(0.9, c.momentum());
    assertEquals(32, c.minDimToFactor());
    assertEquals(1.0, c.clipNorm());
    assertEquals(SCHEDULE, c.schedule());
  }

  @Test
  void shouldReachTheBeta2CapAfterAbout5600Steps() {
    OptimizerConfig c = OptimizerConfig.defaults(SCHEDULE);
    assertEquals(0f, StepFactors.beta2(c, 0));
    assertTrue(StepFactors.beta2(c, 5_000) < 0.999f);
    assertEquals(0.999f, StepFactors.beta2(c, 5_700));
  }

  @Test
  void shouldRejectBadValuesNamingTheSetting() {
    assertRejected("lr", b -> b.lr(-1e-3));
    assertRejected("lr", b -> b.lr(Double.NaN));
    assertRejected("wd", b -> b.wd(-1));
    assertRejected("wd_rules", b -> b.rules(null));
    assertRejected("beta2_cap", b -> b.beta2Cap(1.0));
    assertRejected("beta2_cap", b -> b.beta2Cap(0));
    assertRejected("decay_rate", b -> b.decayRate(0));
    assertRejected("eps", b -> b.eps(0));
    assertRejected("eps", b -> b.eps(1e-50));
    assertRejected("momentum", b -> b.momentum(1.0));
    assertRejected("momentum", b -> b.momentum(-0.1));
    assertRejected("min_dim_to_factor", b -> b.minDimToFactor(0));
    assertRejected("clip_norm", b -> b.clipNorm(0));
    assertRejected("clip_norm", b -> b.clipNorm(Double.NaN));
    assertRejected("schedule", b -> b.schedule(null));
  }

  @Test
  void shouldAcceptAnInfiniteClipNormAsNeverClipping() {
    OptimizerConfig c = OptimizerConfig.builder(SCHEDULE).clipNorm(Double.POSITIVE_INFINITY).build();
    assertEquals(false, StepFactors.of(c, 0, 1e30).clip());
  }

  private static void assertRejected(String setting, UnaryOperator<OptimizerConfig.Builder> change) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> change.apply(OptimizerConfig.builder(SCHEDULE)).build());
    assertTrue(e.getMessage().contains(setting), "message '" + e.getMessage() + "' should name " + setting);
  }
}
