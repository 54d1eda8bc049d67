package io.vitfleet.feeder.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The resume proof: a feeder process killed with SIGKILL at a random step and started again delivers, from the
 * committed step on, exactly the bytes of a run that was never interrupted.
 */
class FeederResumeIT {
  private static final long STEPS = 40;
  private static final List<String> JOB = List.of("--size", "1000", "--shards", "10", "--window", "3", "--seed", "7",
      "--batch", "8", "--microbatch", "4", "--groups", "2", "--image", "24", "--workers", "2", "--to",
      Long.toString(STEPS));
  private static final long TIMEOUT_MS = 120_000;

  @Test
  void shouldDeliverTheBytesOfAnUninterruptedRunAfterAKillAtARandomStep(@TempDir Path dir) throws Exception {
    long seed = System.nanoTime();
    SplittableRandom random = new SplittableRandom(seed);
    long killAfter = 2 + random.nextLong(STEPS - 12);
    // A step takes at least 2 x 40 ms (two microbatches, each followed by a pause): the kill lands anywhere in it.
    long delayMs = random.nextLong(80);
    String context = "kill " + delayMs + " ms after step " + killAfter + " (random seed " + seed + ")";

    Path reference = dir.resolve("reference.bin");
    List<String> referenceArgs = new ArrayList<>(JOB);
    referenceArgs.addAll(List.of("--out", reference.toString()));
    assertEquals(0, FeederMain.run(referenceArgs.toArray(String[]::new), new PrintStream(new ByteArrayOutputStream(),
        true, StandardCharsets.UTF_8)));

    Path run = dir.resolve("run.bin");
    Process first = feeder(run, 40, dir.resolve("first.log"));
    long deadline = System.currentTimeMillis() + TIMEOUT_MS;
    while (StepFile.recover(run).lastCommittedStep() < killAfter) {
      if (!first.isAlive()) {
        fail("the feeder exited (" + first.exitValue() + ") before step " + killAfter + ": "
            + Files.readString(dir.resolve("first.log")));
      }
      if (System.currentTimeMillis() > deadline) {
        first.destroyForcibly();
        fail("no commit of step " + killAfter + " within " + TIMEOUT_MS + " ms");
      }
      Thread.sleep(5);
    }
    Thread.sleep(delayMs);
    first.destroyForcibly().waitFor();
    StepFile.Recovery crash = StepFile.recover(run);
    System.out.println(context + ": killed with " + crash);
    assertTrue(crash.lastCommittedStep() >= killAfter && crash.lastCommittedStep() < STEPS - 1,
        context + ": the kill came too late, at " + crash);

    Process second = feeder(run, 0, dir.resolve("second.log"));
    assertTrue(second.waitFor(TIMEOUT_MS, TimeUnit.MILLISECONDS), context + ": the restarted feeder did not finish");
    String log = Files.readString(dir.resolve("second.log"));
    assertEquals(0, second.exitValue(), log);
    assertTrue(log.contains("resuming at step " + (crash.lastCommittedStep() + 1) + ", " + crash.committedBytes()
        + " committed bytes, " + crash.tornBytes() + " torn bytes cut"), context + ": " + log);

    byte[] expected = Files.readAllBytes(reference);
    byte[] actual = Files.readAllBytes(run);
    int from = (int) crash.committedBytes();
    assertArrayEquals(Arrays.copyOfRange(expected, from, expected.length), Arrays.copyOfRange(actual, from,
        actual.length), context + ": the bytes delivered after the restart");
    assertArrayEquals(expected, actual, context + ": the whole stream");
    assertEquals(STEPS - 1, StepFile.recover(run).lastCommittedStep());
  }

  /** Starts FeederMain in a new JVM with this JVM's flags and class path. */
  private static Process feeder(Path out, long pauseMs, Path log) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String flag : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (flag.startsWith("--add-") || flag.startsWith("-D") || flag.startsWith("-XX:")) {
        command.add(flag);
      }
    }
    command.addAll(List.of("-Xmx512m", "-cp", System.getProperty("java.class.path"), FeederMain.class.getName()));
    command.addAll(JOB);
    command.addAll(List.of("--out", out.toString(), "--pause-ms", Long.toString(pauseMs)));
    return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }
}
