package io.vitfleet.paramstore.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitfleet.protocol.ParameterManifest;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The durability proof of the shard store: a child JVM stages and commits step after step of known content and is
 * killed with SIGKILL at random instants, many of them inside a stage or a commit, some while it starts and recovers
 * the map; after each kill the store must reopen at a committed step no older than the last one the child reported,
 * holding exactly that step's content; a step the child reported prepared but not committed must be committed or
 * still prepared; any prepared step must be the next one and commit to exactly its content (done after every fourth
 * kill, a paused one, which mostly lands inside a commit; after the others the next child stages over it); and the
 * next child must go on from there.
 */
class ShardStoreCrashIT {
  private static final int KILLS = 20;
  /** About 100k floats over four tensors, in 16 KiB entries: about 45 writes per step. */
  private static final int TENSORS = 4;
  private static final int ROWS = 100;
  private static final int COLS = 250;
  private static final int CHUNK = 16 * 1024;
  private static final long JOB = 0xc0ffee_0001L;
  /** On even kills: pauses that put most kills inside a commit (between or during the commit records' writes). */
  private static final long STAGE_PAUSE_MICROS = 200;
  private static final long COMMIT_PAUSE_MICROS = 20_000;
  /** Longest wait for a child to open the store (a JVM start plus Chronicle's runtime compilation, on a busy host). */
  private static final long OPEN_TIMEOUT_SECONDS = 90;

  @TempDir
  Path dir;

  @Test
  void killNineAtRandomInstantsNeverTearsOrLosesACommittedStep() throws Exception {
    long seed = Long.getLong("vitfleet.crash.seed", System.nanoTime());
    Random random = new Random(seed);
    Path file = dir.resolve("shard-0.cm");
    ParameterManifest m = StoreFixtures.manifest(TENSORS, ROWS, COLS);
    long recovered = -1;
    int landedAfterCommitBeforeReport = 0;
    int repairedOnOpen = 0;
    int preparedOnOpen = 0;
    int preparedCommitted = 0;
    List<String> log = new ArrayList<>();
    long start = System.nanoTime();
    for (int kill = 0; kill < KILLS; kill++) {
      boolean paused = kill % 2 == 0;
      // Every fifth kill comes early, at a random instant of the child's start: JVM start, map recovery, repair.
      boolean early = kill % 5 == 4;
      Child child = Child.start(file, dir.resolve("child-" + kill + ".out"), dir.resolve("child-" + kill + ".err"),
          paused);
      if (early) {
        Thread.sleep(random.nextInt(1500));
      } else {
        long opened = child.awaitOpen();
        assertEquals(Math.max(recovered, 0), opened, "child " + kill + " resumes from the committed step");
        // Kill once the child is in its stride (its first step also warms the JIT): at a random instant of the
        // next few steps, which with the pauses are mostly spent inside a commit.
        child.awaitFirstCommit();
        Thread.sleep(random.nextInt(paused ? 150 : 100));
      }
      child.process.destroyForcibly();
      assertTrue(child.process.waitFor(30, TimeUnit.SECONDS), "child " + kill + " dies");
      // Committed for sure: what the child reported, or what the store held before this child.
      long reported = Math.max(child.lastCommitted(), recovered);
      long reportedPrepared = child.lastPrepared();
      try (ShardStore s = ShardStore.open(file, JOB, m, CHUNK)) {
        recovered = s.committedStep();
        long prepared = s.preparedStep();
        String where = "kill " + kill + " (seed " + seed + "): child reported step " + reported + " committed and "
            + reportedPrepared + " prepared, store holds " + recovered + " committed and " + prepared + " prepared";
        assertTrue(recovered >= reported, where + ": a committed step was lost");
        assertTrue(recovered <= reported + 1, where + ": more than the step in flight appeared");
        assertNull(StoreFixtures.mismatch(s, recovered), where + ": torn");
        assertTrue(prepared == -1 || prepared == recovered + 1, where + ": only the next step can be prepared");
        if (reportedPrepared > recovered) {
          assertEquals(reportedPrepared, prepared, where + ": a step reported prepared was lost");
        }
        ShardStore.OpenReport r = s.openReport();
        if (recovered > reported) {
          landedAfterCommitBeforeReport++;
        }
        if (r.entriesRebuilt() > 0 || r.commitRecordsRewritten()) {
          repairedOnOpen++;
        }
        log.add(String.format("kill %2d %s%s open %5d ms, reported %4d, recovered %4d, prepared %4d, rebuilt %d, "
            + "records rewritten %s, map corruptions %d, discarded %s", kill, paused ? "paused" : "free  ",
            early ? " early" : "      ", child.openMillis(), reported, recovered, prepared, r.entriesRebuilt(),
            r.commitRecordsRewritten(), r.corruptionsReportedByMap(), r.discarded()));
        if (prepared >= 0) {
          preparedOnOpen++;
          if (kill % 4 == 0) {
            s.commit(prepared);
            assertNull(StoreFixtures.mismatch(s, prepared), where + ": the prepared step commits torn");
            recovered = prepared;
            preparedCommitted++;
          }
        }
      }
    }
    long seconds = (System.nanoTime() - start) / 1_000_000_000L;
    log.forEach(System.out::println);
    System.out.println(KILLS + " kills in " + seconds + " s, final step " + recovered + ", " + repairedOnOpen
        + " opens repaired a commit record or entry, " + landedAfterCommitBeforeReport
        + " kills landed after a commit record but before the report, " + preparedOnOpen
        + " opens found a step prepared (" + preparedCommitted + " committed it); seed " + seed);
    assertTrue(recovered >= KILLS / 2, "training made progress across the kills: final step " + recovered);
  }

  /**
   * A running {@link CrashingTrainer}. Its stdout goes to a file, read by polling: a pipe read by a thread races with
   * the JDK draining the pipe when the process dies, and can lose the last lines the child wrote.
   */
  private static final class Child {
    private static final long POLL_MILLIS = 5;
    final Process process;
    final Path stdout;

    private Child(Process process, Path stdout) {
      this.process = process;
      this.stdout = stdout;
    }

    static Child start(Path file, Path stdout, Path stderr, boolean paused) throws IOException {
      List<String> cmd = new ArrayList<>();
      cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
        // The test JVM's flags (surefire's argLine: add-opens, analytics off) minus agents and debuggers.
        if (!arg.startsWith("-javaagent") && !arg.startsWith("-agentlib") && !arg.startsWith("-Xmx")) {
          cmd.add(arg);
        }
      }
      // A short-lived process: the C1 compiler alone starts faster, and a small heap is plenty.
      cmd.add("-XX:TieredStopAtLevel=1");
      cmd.add("-Xmx256m");
      cmd.add("-cp");
      cmd.add(System.getProperty("java.class.path"));
      cmd.add(CrashingTrainer.class.getName());
      cmd.add(file.toString());
      cmd.add(Long.toHexString(JOB));
      cmd.add(Integer.toString(TENSORS));
      cmd.add(Integer.toString(ROWS));
      cmd.add(Integer.toString(COLS));
      cmd.add(Integer.toString(CHUNK));
      cmd.add(Long.toString(paused ? STAGE_PAUSE_MICROS : 0));
      cmd.add(Long.toString(paused ? COMMIT_PAUSE_MICROS : 0));
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(stdout.toFile()).redirectError(stderr.toFile());
      return new Child(pb.start(), stdout);
    }

    /** The last value of the lines starting with {@code word}, or -1; {@code field} picks the value. */
    long last(String word, int field) throws IOException {
      long v = -1;
      if (!Files.exists(stdout)) {
        return v;
      }
      String text = Files.readString(stdout, StandardCharsets.UTF_8);
      // Only whole lines: the child may be writing the last one right now.
      for (String line : text.substring(0, text.lastIndexOf('\n') + 1).split("\n")) {
        String[] f = line.split(" ");
        if (f[0].equals(word)) {
          v = Long.parseLong(f[field]);
        }
      }
      return v;
    }

    long lastCommitted() throws IOException {
      return last("COMMITTED", 1);
    }

    long lastPrepared() throws IOException {
      return last("PREPARED", 1);
    }

    long openMillis() throws IOException {
      return last("OPEN", 2);
    }

    /** Waits for the line {@code word ...} and returns its field 1. */
    private long await(String word, String what) throws IOException, InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(OPEN_TIMEOUT_SECONDS);
      while (System.nanoTime() < deadline) {
        long v = last(word, 1);
        if (v >= 0) {
          return v;
        }
        if (!process.isAlive()) {
          throw new AssertionError("child exited with " + process.exitValue() + " before it " + what
              + "; see its stderr file");
        }
        Thread.sleep(POLL_MILLIS);
      }
      throw new AssertionError("child did not " + what + " within " + OPEN_TIMEOUT_SECONDS + " s");
    }

    long awaitOpen() throws IOException, InterruptedException {
      return await("OPEN", "open the store");
    }

    void awaitFirstCommit() throws IOException, InterruptedException {
      await("COMMITTED", "commit a step");
    }
  }
}
