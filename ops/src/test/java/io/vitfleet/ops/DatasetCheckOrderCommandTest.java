package io.vitfleet.ops;

import static io.vitfleet.ops.CliRun.vitfleet;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DatasetCheckOrderCommandTest {



  @Test
  void shouldCheckEveryPositionOfASmallEpochAndWriteTheCounts(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("order.json");
    CliRun r = vitfleet("dataset", "check-order", "--n", "1000003", "--seed", "5", "--shards", "97", "--window", "4",
        "--json", file.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("duplicates       0"), r.out());
    JsonNode j = JsonOutput.mapper().readTree(file.toFile());
    assertEquals(1_000_003, j.get("n").asLong());
    assertEquals("full", j.get("mode").asText());
    assertEquals(1_000_003, j.get("checked").asLong());
    assertEquals(0, j.get("duplicates").asLong());
    assertEquals(0, j.get("missing").asLong());
    assertEquals(97, j.get("shards").asInt());
    assertEquals(5, j.get("seed").asLong());
    assertTrue(j.get("seconds").asDouble() >= 0);
  }

  @Test
  void shouldSampleAnEpochOfThreeBillion(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("order.json");
    CliRun r = vitfleet("dataset", "check-order", "--n", "3000000000", "--sample", "200000", "--epoch", "9",
        "--json", file.toString());
    assertEquals(0, r.code(), r.err());
    JsonNode j = JsonOutput.mapper().readTree(file.toFile());
    assertEquals(3_000_000_000L, j.get("n").asLong());
    assertEquals("sampled", j.get("mode").asText());
    assertEquals(200_000, j.get("checked").asLong());
    assertEquals(0, j.get("duplicates").asLong());
    assertEquals(0, j.get("missing").asLong());
    assertEquals(1024, j.get("shards").asInt());
  }

  @Test
  void shouldCheckAWholeEpochWhenForcedToFullMode() {
    CliRun r = vitfleet("dataset", "check-order", "--n", "5000", "--mode", "full", "--full-max", "10");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("mode             full"), r.out());
    assertTrue(r.out().contains("checked          5000"), r.out());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = ';', value = {
      "--n 0; --n must be in 1..",
      "--n -5; --n must be in 1..",
      "--n 100 --window 0; --window must be at least 1",
      "--n 100 --shards 0; --shards must be in 1..100",
      "--n 100 --shards 101; --shards must be in 1..100",
      "--n 100 --epoch -1; --epoch must be non-negative",
      "--n 100 --mode quick; --mode must be auto, full or sampled",
      "--n 100 --mode sampled --sample 0; --sample must be in 1..",
      "--n 100 --mode sampled --ranges 0; --ranges must be in 1..",
      "--n 100 --threads 0; --threads must be at least 1",
      "--n 4611686018427387904 --mode full; beyond a Java array",
      "--n twelve; Invalid value for option '--n'"})
  void shouldRejectABadValueWithOneLineAndExitTwo(String args, String message) {
    String[] parts = ("dataset check-order " + args).split(" ");
    CliRun r = vitfleet(parts);
    assertEquals(VitfleetCli.EXIT_USAGE, r.code(), r.out() + r.err());
    assertTrue(r.err().contains(message), r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
  }
}
