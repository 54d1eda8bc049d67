package io.vitfleet.ops.train;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import io.vitfleet.model.HeadType;
import io.vitfleet.model.LossType;
import io.vitfleet.model.Variant;
import io.vitfleet.model.ViTConfig;
import io.vitfleet.ops.UserError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A training job as read from HOCON ({@code vitfleet.job}, defaults in the ops module's reference.conf): the model,
 * the data, the units of work, the optimizer and schedule, the step count and the thread count. The rendered job is
 * stored in every checkpoint, so a resumed run uses exactly the job it started with.
 */
public record JobConfig(Config raw, ViTConfig model, long seed, String dataset, Path dataDir, int globalBatch,
                        int microbatch, int groups, long steps, int threads, long evalEvery,
                        long checkpointEvery) {

  public static final String ROOT = "vitfleet.job";

  /** Loads the job: reference.conf, then the job file (if any), then {@code key=value} overrides, in that order. */
  public static JobConfig load(Path jobFile, Map<String, String> overrides) {
    return fromConfig(userSettings(jobFile, overrides).withFallback(ConfigFactory.defaultReference()).resolve());
  }

  /** The job {@code base} (e.g. a bundled job resource) with {@code key=value} overrides on top. */
  public static JobConfig loadOver(Config base, Map<String, String> overrides) {
    return fromConfig(overrides(overrides).withFallback(base).withFallback(ConfigFactory.defaultReference())
        .resolve());
  }

  /** The {@code key=value} overrides on top of the job file (if any), keys relative to {@link #ROOT}. */
  private static Config userSettings(Path jobFile, Map<String, String> overrides) {
    Config c = overrides(overrides);
    if (jobFile != null) {
      if (!Files.isRegularFile(jobFile)) {
        throw new UserError("job file not found: " + jobFile + "; pass an existing HOCON file to --config");
      }
      try {
        c = c.withFallback(ConfigFactory.parseFile(jobFile.toFile()));
      } catch (ConfigException ex) {
        throw new UserError("cannot parse job file " + jobFile + ": " + ex.getMessage());
      }
    }
    return c;
  }

  /** {@code key=value} settings as a config, keys relative to {@link #ROOT}. */
  private static Config overrides(Map<String, String> overrides) {
    Config c = ConfigFactory.empty();
    for (Map.Entry<String, String> e : overrides.entrySet()) {
      String key = e.getKey().startsWith(ROOT + ".") ? e.getKey() : ROOT + "." + e.getKey();
      try {
        c = c.withFallback(ConfigFactory.parseString(key + " = " + e.getValue()));
      } catch (ConfigException ex) {
        throw new UserError("cannot parse setting " + e.getKey() + "=" + e.getValue() + ": " + ex.getMessage());
      }
    }
    return c;
  }

  /**
   * The job stored in a checkpoint, with the user's job file and overrides on top (a resumed run normally passes
   * none; a different model is refused by the trainer).
   */
  public static JobConfig resume(String storedJob, Path jobFile, Map<String, String> overrides) {
    Config stored;
    try {
      stored = ConfigFactory.parseString(storedJob);
    } catch (ConfigException e) {
      throw new UserError("the job stored in the checkpoint cannot be parsed: " + e.getMessage());
    }
    return fromConfig(userSettings(jobFile, overrides).withFallback(stored)
        .withFallback(ConfigFactory.defaultReference()).resolve());
  }

  /** Reads a job from a config that already holds every setting (e.g. one stored in a checkpoint). */
  public static JobConfig fromConfig(Config all) {
    try {
      Config j = all.getConfig(ROOT);
      Config m = j.getConfig("model");
      String variantName = m.getString("variant");
      int image = positive(m, "image");
      ViTConfig base = ViTConfig.of(variantName, null, image, positive(m, "channels"), positive(m, "classes"),
          HeadType.parse(m.getString("head")), LossType.parse(m.getString("loss")));
      ViTConfig model = base;
      if (m.hasPath("width") || m.hasPath("depth") || m.hasPath("mlp") || m.hasPath("heads")) {
        Variant v = base.variant();
        Variant custom = new Variant(v.name() + "*",
            m.hasPath("width") ? positive(m, "width") : v.width(),
            m.hasPath("depth") ? positive(m, "depth") : v.depth(),
            m.hasPath("mlp") ? positive(m, "mlp") : v.mlp(),
            m.hasPath("heads") ? positive(m, "heads") : v.heads());
        model = new ViTConfig(custom, base.patch(), image, base.channels(), base.classes(), base.head(),
            base.loss());
      }
      int global = positive(j, "batch.global");
      int micro = positive(j, "batch.microbatch");
      int groups = positive(j, "batch.groups");
      if (global % micro != 0) {
        throw new UserError("batch.global (" + global + ") must be a multiple of batch.microbatch (" + micro + ")");
      }
      if ((global / micro) % groups != 0) {
        throw new UserError("the " + (global / micro) + " microbatches of a step must split evenly into batch.groups ("
            + groups + ")");
      }
      String dataset = j.getString("data.dataset");
      if (!dataset.equals("fashion-mnist")) {
        throw new UserError("unknown data.dataset '" + dataset + "'; this version trains on fashion-mnist");
      }
      j.getBoolean("data.augment.flip");
      nonNegative(j, "data.augment.max_shift");
      long steps = j.getLong("steps");
      if (steps <= 0) {
        throw new UserError("steps must be positive, got " + steps);
      }
      return new JobConfig(all, model, j.getLong("seed"), dataset, Path.of(j.getString("data.dir")), global, micro,
          groups, steps, positive(j, "threads"), nonNegative(j, "eval_every"), nonNegative(j, "checkpoint_every"));
    } catch (ConfigException e) {
      throw new UserError("bad job setting: " + e.getMessage());
    } catch (IllegalArgumentException e) {
      throw new UserError("bad model setting: " + e.getMessage(), e);
    }
  }

  /** The job subtree. */
  public Config job() {
    return raw.getConfig(ROOT);
  }

  /** The optimizer subtree. */
  public Config optimizer() {
    return job().getConfig("optimizer");
  }

  /** Microbatches per step. */
  public int microbatches() {
    return globalBatch / microbatch;
  }

  /**
   * The job's fingerprint: the first 8 bytes of the SHA-256 of the job without its reporting cadence (eval_every,
   * checkpoint_every), which changes nothing that is computed. Every data-plane frame and every shard store carries
   * it, so members or stores of another job are refused.
   */
  public long fingerprint() {
    Config computed = job().withoutPath("eval_every").withoutPath("checkpoint_every");
    String text = computed.root().render(ConfigRenderOptions.concise());
    try {
      byte[] d = java.security.MessageDigest.getInstance("SHA-256")
          .digest(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return java.nio.ByteBuffer.wrap(d).getLong() & Long.MAX_VALUE;
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  /** The job as HOCON/JSON text, for checkpoints. */
  public String render() {
    return raw.getConfig(ROOT).atPath(ROOT).root().render(ConfigRenderOptions.concise().setFormatted(true));
  }

  /** The (regex, multiplier) weight-decay rules. */
  public List<Map.Entry<String, Double>> weightDecayRules() {
    List<Map.Entry<String, Double>> rules = new ArrayList<>();
    for (ConfigValue v : optimizer().getList("wd_rules")) {
      Object o = v.unwrapped();
      if (!(o instanceof List<?> pair) || pair.size() != 2 || !(pair.get(0) instanceof String)
          || !(pair.get(1) instanceof Number)) {
        throw new UserError("optimizer.wd_rules entries must be [\"regex\", multiplier], got " + o + " at "
            + v.origin().description());
      }
      rules.add(Map.entry((String) pair.get(0), ((Number) pair.get(1)).doubleValue()));
    }
    return rules;
  }

  private static int positive(Config c, String path) {
    int v = c.getInt(path);
    if (v <= 0) {
      throw new UserError("setting " + path + " must be positive, got " + v + " (" + c.origin().description() + ")");
    }
    return v;
  }

  private static long nonNegative(Config c, String path) {
    long v = c.getLong(path);
    if (v < 0) {
      throw new UserError("setting " + path + " must be zero or positive, got " + v);
    }
    return v;
  }
}
