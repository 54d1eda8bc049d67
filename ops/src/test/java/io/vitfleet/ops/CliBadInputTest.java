package io.vitfleet.ops;

import static io.vitfleet.ops.CliRun.vitfleet;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input to train, fewshot and demo: one line naming the problem, exit 2, no stack trace unless --verbose. */
class CliBadInputTest {



  static void assertOneLineError(CliRun r, String expected) {
    assertEquals(2, r.code(), r.err());
    String err = r.err().trim();
    assertFalse(err.contains("\n"), "one line only: " + err);
    assertFalse(err.contains("\tat "), "no stack trace: " + err);
    assertTrue(err.startsWith("vitfleet: error: "), err);
    assertTrue(err.contains(expected), "expected '" + expected + "' in: " + err);
  }

  @Test
  void shouldRejectAFewshotCheckpointThatDoesNotExist(@TempDir Path tmp) {
    assertOneLineError(vitfleet("fewshot", "--checkpoint", tmp.resolve("nope").toString()),
        "checkpoint directory does not exist");
  }

  @Test
  void shouldRejectAFewshotCheckpointDirectoryWithoutCheckpoints(@TempDir Path tmp) {
    assertOneLineError(vitfleet("fewshot", "--checkpoint", tmp.toString()), "no checkpoint in");
  }

  @Test
  void shouldRejectAnUnknownVariantForTraining(@TempDir Path tmp) {
    assertOneLineError(vitfleet("train", "--variant", "Q/16", "--checkpoint", tmp.toString()), "unknown variant 'Q'");
  }

  @Test
  void shouldRejectAnImageSizeNotDivisibleByThePatch(@TempDir Path tmp) {
    assertOneLineError(vitfleet("train", "--variant", "Ti/5", "--checkpoint", tmp.toString()),
        "not divisible by the patch size 5");
  }

  @Test
  void shouldRejectAGlobalBatchThatIsNotAMultipleOfTheMicrobatch(@TempDir Path tmp) {
    assertOneLineError(vitfleet("train", "--set", "batch.global=100", "--set", "batch.microbatch=64", "--checkpoint",
        tmp.toString()), "batch.global (100) must be a multiple of batch.microbatch (64)");
  }

  @Test
  void shouldRejectAMissingDataFolder(@TempDir Path tmp) {
    assertOneLineError(vitfleet("train", "--data", tmp.resolve("no-data").toString(), "--checkpoint",
        tmp.resolve("ck").toString()), "apt-get install -y dataset-fashion-mnist");
  }

  @Test
  void shouldRejectATruncatedIdxFile(@TempDir Path tmp) throws Exception {
    Path data = tmp.resolve("data");
    Files.createDirectories(data);
    for (String f : new String[] {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}) {
      Files.copy(Path.of("/usr/share/datasets/fashion-mnist", f), data.resolve(f));
    }
    Path images = data.resolve("train-images-idx3-ubyte.gz");
    byte[] bytes = Files.readAllBytes(images);
    Files.write(images, java.util.Arrays.copyOf(bytes, bytes.length / 2));
    CliRun r = vitfleet("train", "--data", data.toString(), "--checkpoint", tmp.resolve("ck").toString());
    assertOneLineError(r, "train-images-idx3-ubyte.gz");
  }

  @Test
  void shouldRejectABadFlagValue(@TempDir Path tmp) {
    CliRun r = vitfleet("train", "--steps", "many", "--checkpoint", tmp.toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--steps"), r.err());
  }

  @Test
  void shouldRejectANonPositiveStepCount(@TempDir Path tmp) {
    assertOneLineError(vitfleet("train", "--steps", "0", "--checkpoint", tmp.toString()), "steps must be positive");
  }

  @Test
  void shouldPrintTheStackTraceOnlyWithVerbose(@TempDir Path tmp) {
    CliRun r = vitfleet("fewshot", "--verbose", "--checkpoint", tmp.resolve("nope").toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("\tat "), "stack trace with --verbose: " + r.err());
  }
}
