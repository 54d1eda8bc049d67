package io.vitfleet.paramstore;

/**
 * Steps 7 and 8 of the chain: learning rate, decoupled weight decay, schedule.
 * {@code param <- param - s * (lr * m32 + wd * mult * param)}: the decay is decoupled from the gradient statistics
 * and, like the learning-rate term, follows the schedule.
 */
final class ScheduledStep {
  private ScheduledStep() {
  }

  /** The parameter after the step, in the oracle's float32 order. */
  static float apply(float param, float m32, float lr, float decay, float schedule) {
    return param - schedule * (lr * m32 + decay * param);
  }
}
