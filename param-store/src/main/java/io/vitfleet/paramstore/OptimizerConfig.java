package io.vitfleet.paramstore;

/**
 * The settings of the paper's Adafactor (spec/vit.md, "Optimizer"). Defaults are big_vision's for the paper; each
 * constant below says what the setting trades.
 *
 * @param lr             peak learning rate, multiplied by the schedule
 * @param wd             decoupled weight decay, absolute (big_vision writes {@code wd = 0.03 * lr}), multiplied by
 *                       the per-name rule multiplier and by the schedule
 * @param rules          per-name weight-decay multipliers
 * @param beta2Cap       upper bound of the second-moment decay
 * @param decayRate      exponent of the second-moment decay {@code 1 - (count + 1)^-decayRate}
 * @param eps            added to squared gradients before averaging (keeps the rsqrt finite)
 * @param momentum       first-moment decay (no bias correction), momentum kept in bfloat16
 * @param minDimToFactor tensors whose second-largest dimension is at least this are factored
 * @param clipNorm       gradients are scaled down to this global L2 norm when theirs is at least this
 * @param schedule       the relative learning-rate schedule
 */
public record OptimizerConfig(double lr, double wd, WeightDecayRules rules, double beta2Cap, double decayRate,
                              double eps, double momentum, int minDimToFactor, double clipNorm, Schedule schedule) {

  /** big_vision's base rate; the paper uses 8e-4 for ViT-g/14. Higher trains faster until it diverges. */
  public static final double DEFAULT_LR = 1e-3;
  /** 0.03 * lr, absolute: with the rules' 100x the head decays at 3.0 and the body at 0.03 in units of lr. */
  public static final double DEFAULT_WD = 0.03 * DEFAULT_LR;
  /** Caps beta2: higher averages the second moment over more steps (smoother, slower to adapt); reached ~5.6k. */
  public static final double DEFAULT_BETA2_CAP = 0.999;
  /** Adafactor's schedule of beta2: larger reaches the cap sooner. */
  public static final double DEFAULT_DECAY_RATE = 0.8;
  /** Adafactor's epsilon1: only guards zero gradients; larger would damp small second moments. */
  public static final double DEFAULT_EPS = 1e-30;
  /** 0.9: more smooths the update direction, less reacts faster. */
  public static final double DEFAULT_MOMENTUM = 0.9;
  /** 32: below it the factored rows+columns save little and are a coarser estimate, so keep the full moment. */
  public static final int DEFAULT_MIN_DIM_TO_FACTOR = 32;
  /** 1.0: lower clips more steps (stabler, slower early on). */
  public static final double DEFAULT_CLIP_NORM = 1.0;

  public OptimizerConfig {
    requireFiniteAtLeast("lr", lr, 0);
    requireFiniteAtLeast("wd", wd, 0);
    if (rules == null) {
      throw new IllegalArgumentException("optimizer setting wd_rules must be given (WeightDecayRules.none() for none)");
    }
    if (!(beta2Cap > 0 && beta2Cap < 1)) {
      throw new IllegalArgumentException("optimizer setting beta2_cap must be in (0, 1), got " + beta2Cap);
    }
    if (!(decayRate > 0) || !Double.isFinite(decayRate)) {
      throw new IllegalArgumentException("optimizer setting decay_rate must be positive and finite, got "
          + decayRate);
    }
    if (!(eps > 0) || !Double.isFinite(eps) || (float) eps == 0f) {
      throw new IllegalArgumentException("optimizer setting eps must be positive and representable in float32 "
          + "(>= 1.4e-45), got " + eps);
    }
    if (!(momentum >= 0 && momentum < 1)) {
      throw new IllegalArgumentException("optimizer setting momentum must be in [0, 1), got " + momentum);
    }
    if (minDimToFactor < 1) {
      throw new IllegalArgumentException("optimizer setting min_dim_to_factor must be >= 1, got " + minDimToFactor);
    }
    if (!(clipNorm > 0)) {
      throw new IllegalArgumentException("optimizer setting clip_norm must be positive (Infinity = never clip), got "
          + clipNorm);
    }
    if (schedule == null) {
      throw new IllegalArgumentException("optimizer setting schedule must be given");
    }
  }

  private static void requireFiniteAtLeast(String name, double value, double min) {
    if (!Double.isFinite(value) || value < min) {
      throw new IllegalArgumentException("optimizer setting " + name + " must be finite and >= " + min + ", got "
          + value);
    }
  }

  /** The paper's settings (big_vision defaults) with the given schedule. */
  public static OptimizerConfig defaults(Schedule schedule) {
    return builder(schedule).build();
  }

  /** A builder starting from the paper's settings. */
  public static Builder builder(Schedule schedule) {
    return new Builder(schedule);
  }

  /** This config with another schedule, e.g. a cooldown taken from a running rsqrt job. */
  public OptimizerConfig withSchedule(Schedule s) {
    return new OptimizerConfig(lr, wd, rules, beta2Cap, decayRate, eps, momentum, minDimToFactor, clipNorm, s);
  }

  /** Builds an {@link OptimizerConfig}; every setting starts at the paper's default. */
  public static final class Builder {
    private double lr = DEFAULT_LR;
    private double wd = DEFAULT_WD;
    private WeightDecayRules rules = WeightDecayRules.paper();
    private double beta2Cap = DEFAULT_BETA2_CAP;
    private double decayRate = DEFAULT_DECAY_RATE;
    private double eps = DEFAULT_EPS;
    private double momentum = DEFAULT_MOMENTUM;
    private int minDimToFactor = DEFAULT_MIN_DIM_TO_FACTOR;
    private double clipNorm = DEFAULT_CLIP_NORM;
    private Schedule schedule;

    private Builder(Schedule schedule) {
      this.schedule = schedule;
    }

    public Builder lr(double v) {
      lr = v;
      return this;
    }

    public Builder wd(double v) {
      wd = v;
      return this;
    }

    public Builder rules(WeightDecayRules v) {
      rules = v;
      return this;
    }

    public Builder beta2Cap(double v) {
      beta2Cap = v;
      return this;
    }

    public Builder decayRate(double v) {
      decayRate = v;
      return this;
    }

    public Builder eps(double v) {
      eps = v;
      return this;
    }

    public Builder momentum(double v) {
      momentum = v;
      return this;
    }

    public Builder minDimToFactor(int v) {
      minDimToFactor = v;
      return this;
    }

    public Builder clipNorm(double v) {
      clipNorm = v;
      return this;
    }

    public Builder schedule(Schedule v) {
      schedule = v;
      return this;
    }

    public OptimizerConfig build() {
      return new OptimizerConfig(lr, wd, rules, beta2Cap, decayRate, eps, momentum, minDimToFactor, clipNorm,
          schedule);
    }
  }
}
