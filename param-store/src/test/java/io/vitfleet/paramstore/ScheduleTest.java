package io.vitfleet.paramstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

class ScheduleTest {

  @Test
  void shouldReproduceTheReferenceScheduleTableExactlyAsFloat32() {
    JsonNode table = ReferenceOracle.load().root.get("schedule_table");
    assertEquals(3, table.size());
    for (JsonNode row : table) {
      Schedule s = Schedule.rsqrt(row.get("total").asLong(), row.get("warmup").asLong(), row.get("cooldown").asLong(),
          row.get("timescale").asLong());
      JsonNode values = row.get("values");
      assertEquals(s.total() + 1, values.size());
      for (int step = 0; step < values.size(); step++) {
        assertEquals((float) values.get(step).asDouble(), s.at(step), s + " at step " + step);
      }
    }
  }

  @Test
  void shouldFollowTheRsqrtFormulaWithWarmupAndCooldown() {
    Schedule s = Schedule.rsqrt(1_000_000, 10_000, 50_000, 10_000);
    assertEquals(0f, s.at(0));
    assertEquals(0.5f, s.at(5_000));
    assertEquals(1f, s.at(10_000));
    assertEquals((float) (1 / Math.sqrt(2)), s.at(20_000));
    assertEquals(0.5f, s.at(40_000));
    assertEquals(950_000, s.cooldownStart());
    assertEquals((float) (0.5 / Math.sqrt(97.5)), s.at(975_000));
    assertEquals(0f, s.at(1_000_000));
    assertEquals(0f, s.at(1_000_001), "held at zero past the end, not negative");
  }

  @Test
  void shouldCoolDownAnRsqrtRunFromAnyStepLeavingEarlierStepsUnchanged() {
    Schedule run = Schedule.rsqrt(1_000_000, 10_000, 0, 10_000);
    Schedule cooled = run.cooledDownFrom(60_000, 10_000);
    assertEquals(60_000, cooled.cooldownStart());
    assertEquals(70_000, cooled.total());
    assertEquals(cooled, Schedule.rsqrtCooledDownFrom(10_000, 10_000, 60_000, 10_000));
    for (long step = 0; step <= 60_000; step += 997) {
      assertEquals(run.at(step), cooled.at(step), "step " + step + " is before the cooldown");
    }
    assertEquals(run.at(60_000), cooled.at(60_000));
    assertEquals((float) (run.value(65_000) * 0.5), cooled.at(65_000));
    assertEquals((float) (run.value(69_000) * 0.1), cooled.at(69_000));
    assertEquals(0f, cooled.at(70_000));
    // A second cooldown from the same run, later and longer (the paper takes several).
    Schedule later = run.cooledDownFrom(120_000, 50_000);
    assertEquals(run.at(119_999), later.at(119_999));
    assertEquals((float) (run.value(145_000) * 0.5), later.at(145_000));
  }

  @Test
  void shouldRefuseToCoolDownDecaySchedulesFromArbitrarySteps() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Schedule.cosine(1000, 10, 0).cooledDownFrom(500, 100));
    assertTrue(e.getMessage().contains("cosine"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Schedule.rsqrt(1000, 100, 0, 100).cooledDownFrom(50, 10),
        "a cooldown inside the warmup");
  }

  @Test
  void shouldFollowBigVisionCosineAndLinearDecayAfterWarmup() {
    Schedule cos = Schedule.cosine(110, 10, 0);
    assertEquals(0f, cos.at(0));
    assertEquals(0.5f, cos.at(5));
    assertEquals(1f, cos.at(10));
    assertEquals((float) (0.5 * (1 + Math.cos(Math.PI * 0.25))), cos.at(35));
    assertEquals((float) (0.5 * (1 + Math.cos(Math.PI * 0.5))), cos.at(60));
    assertEquals(0f, cos.at(110));
    assertEquals(0f, cos.at(200), "progress is clipped to 1");
    Schedule lin = Schedule.linear(110, 10, 0);
    assertEquals(1f, lin.at(10));
    assertEquals(0.75f, lin.at(35));
    assertEquals(0f, lin.at(110));
    Schedule cooled = Schedule.linear(110, 10, 20);
    assertEquals((float) ((1 - 95 / 100.0) * (5 / 20.0)), cooled.at(105));
    Schedule constant = Schedule.constant(100, 4, 10);
    assertEquals(0.25f, constant.at(1));
    assertEquals(1f, constant.at(50));
    assertEquals(0.5f, constant.at(95));
  }

  @Test
  void shouldNameScheduleTypesAsJobFilesDo() {
    assertEquals(Schedule.Kind.RSQRT, Schedule.Kind.named("rsqrt"));
    assertEquals(Schedule.Kind.COSINE, Schedule.Kind.named(" Cosine "));
    assertEquals("linear", Schedule.Kind.LINEAR.id());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Schedule.Kind.named("step"));
    assertTrue(e.getMessage().contains("rsqrt"), e.getMessage());
  }

  @Test
  void shouldRejectBadScheduleSettingsNamingTheSetting() {
    assertMessage("total", () -> Schedule.rsqrt(0, 0, 0, 1));
    assertMessage("warmup", () -> Schedule.rsqrt(10, -1, 0, 1));
    assertMessage("warmup", () -> Schedule.rsqrt(10, 11, 0, 1));
    assertMessage("cooldown", () -> Schedule.rsqrt(10, 0, 11, 1));
    assertMessage("timescale", () -> Schedule.rsqrt(10, 0, 0, 0));
    assertMessage("total > warmup", () -> Schedule.cosine(10, 10, 0));
    assertMessage("type", () -> new Schedule(null, 10, 0, 0, 1));
    assertMessage("step", () -> Schedule.constant(10, 0, 0).at(-1));
  }

  private static void assertMessage(String fragment, Runnable r) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
    assertTrue(e.getMessage().contains(fragment), "message '" + e.getMessage() + "' should name " + fragment);
  }
}
