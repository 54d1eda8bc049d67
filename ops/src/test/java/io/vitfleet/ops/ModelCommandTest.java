package io.vitfleet.ops;

import static io.vitfleet.ops.CliRun.vitfleet;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelCommandTest {
  private static final double GIB = 1024.0 * 1024 * 1024;



  @Test
  void infoPrintsTheTableTwoCountsOfAVariant() {
    CliRun r = vitfleet("model", "info", "Ti/16");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().startsWith("Ti/16: 224x224x3 images, 196 tokens, 1000 classes, map head"), r.out());
    assertTrue(r.out().contains("5,524,032 (5.5M"), r.out());
    assertTrue(r.out().contains("encoder as in Table 2: 2.49)"), r.out());
  }

  @Test
  void infoWritesTheSpecsGFourteenFiguresAsJson(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("out/g14.json");
    CliRun r = vitfleet("model", "info", "G/14", "--classes", "29593", "--json", file.toString());
    assertEquals(0, r.code(), r.err());
    JsonNode j = JsonOutput.mapper().readTree(file.toFile());
    assertEquals("G/14", j.get("variant").asText());
    assertEquals(1.930, j.get("params_total").asLong() / 1e9, 0.0005);
    assertEquals(1843, j.get("params_encoder").asLong() / 1e6, 1);
    assertEquals(965.3, j.get("gflops_encoder").asDouble(), 0.03 * 965.3);
    assertTrue(j.get("gflops").asDouble() > j.get("gflops_encoder").asDouble());
    assertEquals(7.19, j.get("bytes_params").asLong() / GIB, 0.005);
    assertEquals(14.38, j.get("bytes_adam_state").asLong() / GIB, 0.005);
    assertEquals(3.63, j.get("bytes_optimizer_state").asLong() / GIB, 0.005);
  }

  @Test
  void flagsOverrideThePatchImageChannelsAndHead(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("ti4.json");
    CliRun r = vitfleet("model", "info", "Ti/16", "--patch", "4", "--image", "28", "--channels", "1", "--classes", "10",
        "--head", "gap", "--json", file.toString());
    assertEquals(0, r.code(), r.err());
    JsonNode j = JsonOutput.mapper().readTree(file.toFile());
    assertEquals("Ti/4", j.get("variant").asText());
    assertEquals(49, j.get("tokens").asInt());
    assertEquals("gap", j.get("head").asText());
    assertEquals(j.get("params_encoder").asLong() + 192 * 10 + 10, j.get("params_total").asLong());
  }

  @Test
  void helpNamesTheDefaults() {
    CliRun r = vitfleet("model", "info", "--help");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("(default: 224)"), r.out());
    assertTrue(r.out().contains("(default: 3)"), r.out());
    assertTrue(r.out().contains("(default: 1000)"), r.out());
    assertTrue(r.out().contains("(default: map)"), r.out());
  }

  @Test
  void badInputIsOneLineAndExitTwo() {
    String[][] cases = {
        {"model", "info", "X/16"},
        {"model", "info", "Ti/16", "--image", "225"},
        {"model", "info", "Ti/16", "--patch", "0"},
        {"model", "info", "Ti/16", "--image", "-224"},
        {"model", "info", "Ti/16", "--classes", "0"},
        {"model", "info", "Ti/16", "--channels", "-1"},
        {"model", "info", "Ti/16", "--head", "cls"},
        {"model", "info", "Ti"},
        {"model", "info", "Ti/x"},
        {"model", "info", "Ti/16", "--image", "big"},
        {"model", "info"},
        {"model"},
    };
    for (String[] args : cases) {
      CliRun r = vitfleet(args);
      String what = String.join(" ", args);
      assertEquals(VitfleetCli.EXIT_USAGE, r.code(), what + ": " + r.err());
      assertTrue(r.err().startsWith("vitfleet: error: "), what + ": " + r.err());
      assertEquals(1, r.err().strip().lines().count(), what + ": " + r.err());
      assertEquals("", r.out(), what);
    }
    assertTrue(vitfleet("model", "info", "X/16").err().contains("unknown variant 'X'"));
    assertTrue(vitfleet("model", "info", "Ti/16", "--image", "225").err().contains("not divisible"));
  }
}
