package io.vitfleet.paramstore;

import java.util.Locale;

/**
 * The relative learning-rate schedule s(step) of spec/vit.md ("Learning-rate schedules"): it scales the whole update
 * (learning-rate term and weight decay alike), so with warmup the first update is zero.
 *
 * <p>Arithmetic is big_vision's, in double, rounded to float32 once at the end ({@link #at(long)}), which is what the
 * reference oracle does:
 * <ul>
 *   <li>{@code rsqrt}: {@code 1 / sqrt((step + timescale - warmup) / timescale)} when {@code step > warmup}, else 1;</li>
 *   <li>{@code cosine}: {@code 0.5 * (1 + cos(pi * progress))}; {@code linear}: {@code 1 - progress}, where
 *       {@code progress = clip((step - warmup) / (total - warmup), 0, 1)};</li>
 *   <li>{@code constant}: 1;</li>
 * </ul>
 * then {@code s *= min(1, step / warmup)} if warmup > 0, and {@code s *= min(1, (total - step) / cooldown)} if
 * cooldown > 0. Past {@code total} the cooldown factor is held at 0 (big_vision would go negative there).
 *
 * <p>"Infinite" training: an rsqrt (or constant) value does not depend on {@code total}, so an rsqrt run cooled down
 * linearly from any step S over L steps is the schedule with {@code total = S + L} and {@code cooldown = L}; build it
 * with {@link #cooledDownFrom(long, long)} or {@link #rsqrtCooledDownFrom}. {@link #cooldownStart()} tells where the
 * cooldown of any schedule begins.
 *
 * @param kind      rsqrt, cosine, linear or constant
 * @param total     steps of the run (the end of the cooldown, and the horizon of cosine and linear decay)
 * @param warmup    steps of linear warmup from 0 (0 = none)
 * @param cooldown  steps of linear cooldown to 0 at {@code total} (0 = none)
 * @param timescale rsqrt only: one timescale after warmup the rate has fallen to 1/sqrt(2), after three to 1/2
 */
public record Schedule(Kind kind, long total, long warmup, long cooldown, long timescale) {

  /** The paper's rsqrt timescale (ViT-g/14 recipe): the rate falls to 1/sqrt(2) after one timescale past warmup. */
  public static final long DEFAULT_TIMESCALE = 10_000;

  /** The schedule shapes. */
  public enum Kind {
    RSQRT, COSINE, LINEAR, CONSTANT;

    /** The kind named as in a job file ({@code rsqrt}, {@code cosine}, {@code linear}, {@code constant}). */
    public static Kind named(String name) {
      for (Kind k : values()) {
        if (k.id().equals(name.trim().toLowerCase(Locale.ROOT))) {
          return k;
        }
      }
      throw new IllegalArgumentException("unknown schedule type '" + name
          + "'; choose rsqrt (the paper's), cosine, linear or constant");
    }

    /** The name used in job files. */
    public String id() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public Schedule {
    if (kind == null) {
      throw new IllegalArgumentException("schedule type must be given: rsqrt, cosine, linear or constant");
    }
    if (total <= 0) {
      throw new IllegalArgumentException("schedule total must be positive, got " + total);
    }
    if (warmup < 0 || warmup > total) {
      throw new IllegalArgumentException("schedule warmup must be in [0, total=" + total + "], got " + warmup);
    }
    if (cooldown < 0 || cooldown > total) {
      throw new IllegalArgumentException("schedule cooldown must be in [0, total=" + total + "], got " + cooldown);
    }
    if (timescale <= 0) {
      throw new IllegalArgumentException("schedule timescale must be positive, got " + timescale);
    }
    if ((kind == Kind.COSINE || kind == Kind.LINEAR) && warmup >= total) {
      throw new IllegalArgumentException("a " + kind.id() + " schedule needs total > warmup (its decay runs from "
          + "warmup to total), got total=" + total + " warmup=" + warmup);
    }
  }

  /** The paper's schedule: rsqrt with warmup, and a linear cooldown over the last {@code cooldown} steps. */
  public static Schedule rsqrt(long total, long warmup, long cooldown, long timescale) {
    return new Schedule(Kind.RSQRT, total, warmup, cooldown, timescale);
  }

  public static Schedule cosine(long total, long warmup, long cooldown) {
    return new Schedule(Kind.COSINE, total, warmup, cooldown, DEFAULT_TIMESCALE);
  }

  public static Schedule linear(long total, long warmup, long cooldown) {
    return new Schedule(Kind.LINEAR, total, warmup, cooldown, DEFAULT_TIMESCALE);
  }

  public static Schedule constant(long total, long warmup, long cooldown) {
    return new Schedule(Kind.CONSTANT, total, warmup, cooldown, DEFAULT_TIMESCALE);
  }

  /** A schedule from its job-file settings ({@code type}, steps, warmup, cooldown, timescale). */
  public static Schedule of(String type, long total, long warmup, long cooldown, long timescale) {
    return new Schedule(Kind.named(type), total, warmup, cooldown, timescale);
  }

  /**
   * An "infinite" rsqrt run cooled down linearly from step {@code start} to 0 at step {@code start + length}: the
   * paper's way of taking several finished models from one run.
   */
  public static Schedule rsqrtCooledDownFrom(long timescale, long warmup, long start, long length) {
    return rsqrt(start + length, warmup, length, timescale).checkCooldownAfterWarmup(start);
  }

  /**
   * This run, cooled down linearly over {@code length} steps starting at step {@code start} (so it ends at
   * {@code start + length}). Only rsqrt and constant runs qualify: their value before the cooldown does not depend
   * on where the run ends, so every step before {@code start} keeps its value.
   */
  public Schedule cooledDownFrom(long start, long length) {
    if (kind == Kind.COSINE || kind == Kind.LINEAR) {
      throw new IllegalArgumentException("a " + kind.id() + " run cannot be cooled down from an arbitrary step: its "
          + "decay depends on total; use rsqrt or constant for cooldowns taken from one run");
    }
    if (start < 0 || length <= 0) {
      throw new IllegalArgumentException("cooldown must start at a step >= 0 and last > 0 steps, got start=" + start
          + " length=" + length);
    }
    return new Schedule(kind, start + length, warmup, length, timescale).checkCooldownAfterWarmup(start);
  }

  private Schedule checkCooldownAfterWarmup(long start) {
    if (start < warmup) {
      throw new IllegalArgumentException("cooldown start " + start + " is inside the warmup of " + warmup
          + " steps; start the cooldown at or after the warmup");
    }
    return this;
  }

  /** The first step of the cooldown ({@code total - cooldown}); before it the cooldown factor is 1. */
  public long cooldownStart() {
    return total - cooldown;
  }

  /** s(step) as float32, the value the optimizer multiplies into the update at {@code step} (count from 0). */
  public float at(long step) {
    return (float) value(step);
  }

  /** s(step) in double, before the final rounding to float32. */
  public double value(long step) {
    if (step < 0) {
      throw new IllegalArgumentException("schedule step must be >= 0, got " + step);
    }
    double lr = 1.0;
    switch (kind) {
      case RSQRT -> {
        if (warmup < step) {
          long shift = timescale - warmup;
          lr = lr / Math.sqrt((double) (step + shift) / timescale);
        }
      }
      // StrictMath: Math.cos may differ by an ulp between CPUs, and every worker and shard must agree.
      case COSINE -> lr = 0.5 * (1.0 + StrictMath.cos(Math.PI * progress(step)));
      case LINEAR -> lr = 1.0 - progress(step);
      case CONSTANT -> {
      }
      default -> throw new IllegalStateException("unhandled schedule kind " + kind);
    }
    if (warmup > 0) {
      lr = lr * Math.min(1.0, (double) step / warmup);
    }
    if (cooldown > 0) {
      lr = lr * Math.max(0.0, Math.min(1.0, (double) (total - step) / cooldown));
    }
    return lr;
  }

  private double progress(long step) {
    double p = (double) (step - warmup) / (double) (total - warmup);
    return Math.min(1.0, Math.max(0.0, p));
  }
}
