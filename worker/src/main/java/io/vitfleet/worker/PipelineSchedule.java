package io.vitfleet.worker;

import java.util.ArrayList;
import java.util.List;

/**
 * The 1F1B order of one pipeline stage's work in a step: which microbatch to run forward or backward next. Stage s
 * of P runs min(P - s - 1, M) warm-up forwards, then one forward and one backward in turn, then the remaining
 * backwards; the last stage runs each microbatch's forward and backward in one go. Backwards always follow the
 * microbatch order, which is what makes a group's gradient sum the same bits whatever P is.
 *
 * <p>Pure: a function of (stage, stages, microbatches), so every worker of a replica derives the same order.
 */
public final class PipelineSchedule {
  private PipelineSchedule() {
  }

  /** What one operation of the schedule does. */
  public enum Kind {
    /** Forward only: send the output activation downstream and keep the input for the backward. */
    FORWARD,
    /** Backward of a microbatch forwarded earlier, from the activation gradient received from downstream. */
    BACKWARD,
    /** The last stage's fused forward and backward (loss, weight gradients, input gradient). */
    FORWARD_BACKWARD
  }

  /** One operation: {@code kind} of the microbatch with global index {@code microbatch}. */
  public record Op(Kind kind, int microbatch) {
    @Override
    public String toString() {
      return kind + " " + microbatch;
    }
  }

  /**
   * The operations of stage {@code stage} of {@code stages} over {@code microbatches} (global microbatch indices, in
   * the order the replica processes them).
   */
  public static List<Op> of(int stage, int stages, List<Integer> microbatches) {
    if (stages <= 0 || stage < 0 || stage >= stages) {
      throw new IllegalArgumentException("stage " + stage + " is not one of " + stages + " pipeline stages");
    }
    int m = microbatches.size();
    List<Op> ops = new ArrayList<>(2 * m);
    if (stage == stages - 1) {
      for (int k : microbatches) {
        ops.add(new Op(Kind.FORWARD_BACKWARD, k));
      }
      return ops;
    }
    int warmUp = Math.min(stages - stage - 1, m);
    int forwards = 0;
    int backwards = 0;
    while (forwards < warmUp) {
      ops.add(new Op(Kind.FORWARD, microbatches.get(forwards++)));
    }
    while (forwards < m) {
      ops.add(new Op(Kind.FORWARD, microbatches.get(forwards++)));
      ops.add(new Op(Kind.BACKWARD, microbatches.get(backwards++)));
    }
    while (backwards < m) {
      ops.add(new Op(Kind.BACKWARD, microbatches.get(backwards++)));
    }
    return ops;
  }
}
