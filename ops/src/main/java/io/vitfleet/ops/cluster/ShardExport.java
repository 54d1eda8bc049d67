package io.vitfleet.ops.cluster;

import io.vitfleet.coordinator.plan.ChunkSharding;
import io.vitfleet.model.ViTParameters;
import io.vitfleet.ops.UserError;
import io.vitfleet.ops.train.JobConfig;
import io.vitfleet.paramstore.shard.ShardSettings;
import io.vitfleet.paramstore.store.ShardStore;
import io.vitfleet.paramstore.store.ShardStoreException;
import io.vitfleet.protocol.ParameterManifest;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads a stopped cluster's committed parameters back from its shard stores into one flat buffer in manifest order:
 * what `up` hashes at the end (the same hash `train` prints) and what a checkpoint export starts from. The stores
 * must not be open in a running shard (each is locked by its process).
 */
public final class ShardExport {

  /** The committed step and the whole model's parameters of that step. */
  public record Committed(long step, float[] params) {
  }

  private ShardExport() {
  }

  /** The store file of shard {@code shard} in run directory {@code runDir}. */
  public static Path storeFile(Path runDir, int shard) {
    return runDir.resolve("shards").resolve("shard-" + shard + ".map");
  }

  /** The tensors of the model manifest that shard {@code shard} of {@code shards} owns, ascending. */
  public static int[] owned(ParameterManifest manifest, int shards, int shard) {
    return ShardSettings.ownedBy(ChunkSharding.assign(manifest, shards), shard);
  }

  /** The committed parameters of every shard of the run, which must all be at the same step. */
  public static Committed read(Path runDir, JobConfig job, int shards) {
    ParameterManifest manifest = ViTParameters.manifest(job.model());
    float[] params = new float[Math.toIntExact(manifest.totalSize())];
    long step = -1;
    for (int s = 0; s < shards; s++) {
      Path file = storeFile(runDir, s);
      if (!Files.exists(file)) {
        throw new UserError("shard store " + file + " does not exist: is " + runDir + " a cluster run directory?");
      }
      int[] owned = owned(manifest, shards, s);
      try (ShardStore store = ShardStore.open(file, job.fingerprint(), ShardSettings.shardManifest(manifest, owned))) {
        if (s > 0 && store.committedStep() != step) {
          throw new UserError("shard-" + s + " is at step " + store.committedStep() + " but shard-0 at " + step
              + ": the run stopped mid-commit; start it again with `vitfleet up --dir " + runDir + "` to finish");
        }
        step = store.committedStep();
        for (int i = 0; i < owned.length; i++) {
          float[] t = store.committedParams(i);
          System.arraycopy(t, 0, params, Math.toIntExact(manifest.offset(owned[i])), t.length);
        }
      } catch (ShardStoreException e) {
        throw new UserError("cannot read shard-" + s + " of " + runDir + ": " + e.getMessage());
      }
    }
    return new Committed(step, params);
  }
}
