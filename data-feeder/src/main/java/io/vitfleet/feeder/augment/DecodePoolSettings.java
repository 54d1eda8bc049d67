package io.vitfleet.feeder.augment;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;

/**
 * The size of a {@link DecodePool}, from configuration ({@code vitfleet.feeder.decode} in data-feeder's
 * reference.conf, overridden by a job file or flags).
 *
 * @param workers        decode-and-augment threads, each with its own TensorFlow session
 * @param intraOpThreads TensorFlow intra-op threads of each session (the process-wide count)
 */
public record DecodePoolSettings(int workers, int intraOpThreads) {
  public static final String PATH = "vitfleet.feeder.decode";

  public DecodePoolSettings {
    if (workers < 1 || workers > DecodePool.MAX_WORKERS) {
      throw new IllegalArgumentException(PATH + ".workers must be in 1.." + DecodePool.MAX_WORKERS + ", got "
          + workers);
    }
    if (intraOpThreads < 1) {
      throw new IllegalArgumentException(PATH + ".intra-op-threads must be positive, got " + intraOpThreads);
    }
  }

  /** The settings of {@code config} (which falls back to reference.conf). */
  public static DecodePoolSettings from(Config config) {
    try {
      Config c = config.withFallback(ConfigFactory.defaultReference()).getConfig(PATH);
      return new DecodePoolSettings(c.getInt("workers"), c.getInt("intra-op-threads"));
    } catch (ConfigException e) {
      throw new IllegalArgumentException("bad feeder setting: " + e.getMessage(), e);
    }
  }

  /** The settings of the application's configuration (system properties, application.conf, reference.conf). */
  public static DecodePoolSettings load() {
    return from(ConfigFactory.load());
  }

  /** A pool of this size for {@code spec}. */
  public DecodePool newPool(AugmentSpec spec) {
    return new DecodePool(spec, workers, intraOpThreads);
  }
}
