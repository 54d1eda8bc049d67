package io.vitfleet.ops.cluster;

import io.vitfleet.ops.UserError;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The folder of one cluster run, where the launcher and its members meet: the job ({@code job.conf}), the cluster's
 * shape ({@code cluster.conf}), the coordinator's {@code status.json}, one log per member under {@code logs/} and the
 * shard stores under {@code shards/}. Runs sit side by side in a runs folder whose {@code LATEST} file names the
 * newest, so {@code vitfleet status} finds it without being told.
 *
 * <p>The Aeron directory is not in the run folder when {@code /dev/shm} exists: on a tmpfs the data plane's
 * buffers never touch a disk. It gets a random name, because the media driver deletes whatever is in it.
 */
public final class RunDirectory {
  /** Where {@code vitfleet up} puts runs and {@code vitfleet status} looks for them by default. */
  public static final Path DEFAULT_RUNS = Path.of("runs");
  /** The file in a runs folder naming its newest run (a folder name, like a checkpoint folder's LATEST). */
  public static final String LATEST = "LATEST";
  /** A tmpfs present on every Linux host; the Aeron directory goes there when it exists. */
  static final Path SHM = Path.of("/dev/shm");
  private static final DateTimeFormatter RUN_NAME = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");

  private final Path root;
  private final Path aeronDir;

  private RunDirectory(Path root, Path aeronDir) {
    this.root = root;
    this.aeronDir = aeronDir;
  }

  /**
   * Creates (or reuses) the run folder {@code dir} with its {@code logs/} and {@code shards/}, removes a status
   * left by an earlier run in it (its shard stores stay: the job continues from their committed step), and points
   * the parent folder's {@code LATEST} at it.
   */
  public static RunDirectory create(Path dir) {
    Path root = dir.toAbsolutePath().normalize();
    RunDirectory run = new RunDirectory(root, chooseAeronDir(root, SHM));
    try {
      Files.createDirectories(run.logs());
      Files.createDirectories(run.shards());
      Files.deleteIfExists(run.statusFile());
      if (root.getParent() != null) {
        writeAtomically(root.getParent().resolve(LATEST), root.getFileName() + "\n");
      }
    } catch (IOException e) {
      throw new UserError("cannot create the run folder " + root + ": " + e.getMessage()
          + "; pass a writable folder to --dir", e);
    }
    return run;
  }

  /** A fresh folder name for a run started now under {@code runs}: its start time, made unique if taken. */
  public static Path newRunPath(Path runs) {
    String base = LocalDateTime.now().format(RUN_NAME);
    Path p = runs.resolve(base);
    for (int i = 2; Files.exists(p); i++) {
      p = runs.resolve(base + "-" + i);
    }
    return p;
  }

  /**
   * The run that {@code dir} names: a run folder itself, or a runs folder whose {@code LATEST} names one;
   * {@code null} means the default runs folder.
   */
  public static RunDirectory find(Path dir) {
    Path where = (dir == null ? DEFAULT_RUNS : dir).toAbsolutePath().normalize();
    if (isRun(where)) {
      return new RunDirectory(where, null);
    }
    Path latest = where.resolve(LATEST);
    if (Files.isRegularFile(latest)) {
      String name;
      try {
        name = Files.readString(latest).trim();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + latest, e);
      }
      Path run = where.resolve(name);
      if (isRun(run)) {
        return new RunDirectory(run, null);
      }
      throw new UserError(latest + " names the run " + name + ", but " + run + " is not a run folder (no "
          + "cluster.conf); pass the run folder with --dir");
    }
    if (dir == null) {
      throw new UserError("no cluster run found: " + where + " has no " + LATEST + " file; start one with "
          + "'vitfleet up', or pass its folder with --dir");
    }
    throw new UserError("no cluster run found in " + where + ": it is neither a run folder (with cluster.conf) nor "
        + "a runs folder (with " + LATEST + "); pass the folder 'vitfleet up' printed");
  }

  private static boolean isRun(Path dir) {
    return Files.isRegularFile(dir.resolve("cluster.conf")) || Files.isRegularFile(dir.resolve("job.conf"));
  }

  /** A private folder on {@code shm} when it is a writable directory, else {@code aeron/} in the run folder. */
  static Path chooseAeronDir(Path root, Path shm) {
    String name = "vitfleet-" + ProcessHandle.current().pid() + "-"
        + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
    if (Files.isDirectory(shm) && Files.isWritable(shm)) {
      return shm.resolve(name);
    }
    return root.resolve("aeron");
  }

  public Path root() {
    return root;
  }

  /** The full job as HOCON, as {@code JobConfig.render()} writes it; every member reads it. */
  public Path jobConf() {
    return root.resolve("job.conf");
  }

  /** {@code vitfleet.cluster { shards, workers, stages, replicas, step-timeout, ... }}, written by the launcher. */
  public Path clusterConf() {
    return root.resolve("cluster.conf");
  }

  /** Written by the coordinator after every step and membership change. */
  public Path statusFile() {
    return root.resolve("status.json");
  }

  public Path logs() {
    return root.resolve("logs");
  }

  /** stdout and stderr of member {@code memberId}, appended across its restarts. */
  public Path log(String memberId) {
    return logs().resolve(memberId + ".log");
  }

  /** The launcher's own log: member starts, exits and restarts, media driver errors. */
  public Path launcherLog() {
    return logs().resolve("launcher.log");
  }

  public Path shards() {
    return root.resolve("shards");
  }

  /** The persisted store of shard {@code index}. */
  public Path shardStore(int index) {
    return shards().resolve("shard-" + index + ".map");
  }

  /**
   * The media driver's folder of this run (created by the driver, deleted when it stops); {@code null} for a run
   * found by {@link #find}, which launches nothing.
   */
  public Path aeronDir() {
    return aeronDir;
  }

  public void writeJobConf(String hocon) {
    write(jobConf(), hocon);
  }

  public void writeClusterConf(String hocon) {
    write(clusterConf(), hocon);
  }

  private static void write(Path file, String text) {
    try {
      writeAtomically(file, text);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  private static void writeAtomically(Path file, String text) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, text);
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  @Override
  public String toString() {
    return root.toString();
  }
}
