package io.vitfleet.paramstore.store;

import io.vitfleet.protocol.ParameterManifest;
import java.nio.file.Path;
import java.util.concurrent.locks.LockSupport;

/**
 * The child process of {@link ShardStoreCrashIT}: a shard that commits step after step of {@link StoreFixtures}' known
 * content, printing {@code PREPARED <step>} after each stage returns and {@code COMMITTED <step>} after each commit
 * returns, until it is killed. A step it finds prepared when it opens the store is staged again (as a shard does when
 * the coordinator drops a prepared step). Arguments: file, job fingerprint (hex), tensors, rows, cols, chunk bytes,
 * microseconds to pause before each write of a stage, and before each write of a commit (0 for none; pauses widen the
 * window in which a kill lands inside a stage or a commit).
 */
public final class CrashingTrainer {
  private CrashingTrainer() {}

  public static void main(String[] args) {
    Path file = Path.of(args[0]);
    long job = Long.parseUnsignedLong(args[1], 16);
    ParameterManifest m = StoreFixtures.manifest(Integer.parseInt(args[2]), Integer.parseInt(args[3]),
        Integer.parseInt(args[4]));
    int chunk = Integer.parseInt(args[5]);
    long stagePauseNanos = Long.parseLong(args[6]) * 1000;
    long commitPauseNanos = Long.parseLong(args[7]) * 1000;
    boolean[] committing = {false};
    long t0 = System.nanoTime();
    try (ShardStore store = ShardStore.open(file, job, m, chunk)) {
      if (!store.isInitialised()) {
        store.initialise(1, StoreFixtures.params(m, 0), StoreFixtures.state(m, 0));
      }
      store.betweenWrites(() -> {
        long pause = committing[0] ? commitPauseNanos : stagePauseNanos;
        if (pause > 0) {
          LockSupport.parkNanos(pause);
        }
      });
      System.out.println("OPEN " + store.committedStep() + " " + (System.nanoTime() - t0) / 1_000_000);
      System.out.flush();
      for (long t = store.committedStep() + 1; ; t++) {
        store.stage(t, 1, StoreFixtures.params(m, t), StoreFixtures.state(m, t));
        System.out.println("PREPARED " + t);
        System.out.flush();
        committing[0] = true;
        store.commit(t);
        committing[0] = false;
        System.out.println("COMMITTED " + t);
        System.out.flush();
      }
    }
  }
}
