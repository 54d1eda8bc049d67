package io.vitfleet.worker;

import io.vitfleet.protocol.frame.FrameKind;
import io.vitfleet.protocol.link.DataPlane;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.function.Consumer;

/**
 * Where a worker's incoming tensors wait until its step needs them. The data plane delivers tensors in whatever
 * order peers send them, on its subscriber thread ({@link #accept}, the {@code DataPlane} sink); the compute thread
 * takes each one by its address in the step (kind, step, microbatch or group, tensor id), waiting until it arrives.
 *
 * <p>Only tensors of the installed plan version are kept: installing a plan ({@link #acceptPlan}) drops everything
 * else. {@link #cancel} (an abort) wakes every waiting taker with a {@link CancellationException} and refuses takes
 * until the next plan is accepted, so a step that is being discarded never blocks the worker.
 */
public final class TensorMailbox implements Consumer<DataPlane.Tensor> {
  /** No plan accepted yet: every tensor is dropped. */
  public static final int NO_PLAN = -1;

  /** The address of a tensor within a step. */
  private record Key(FrameKind kind, long step, int index, int tensorId) {
  }

  private final Map<Key, DataPlane.Tensor> tensors = new HashMap<>();
  private int planVersion = NO_PLAN;
  private boolean cancelled;
  private long dropped;

  /** Thrown by {@link #take} when the tensor did not arrive in time; the step cannot complete. */
  public static final class ReceiveTimeoutException extends RuntimeException {
    ReceiveTimeoutException(String message) {
      super(message);
    }
  }

  /**
   * The data-plane sink: keeps {@code t} if it belongs to the accepted plan and no abort is pending, else drops it.
   * Any thread.
   */
  @Override
  public synchronized void accept(DataPlane.Tensor t) {
    if (cancelled || t.planVersion() != planVersion) {
      dropped++;
      return;
    }
    tensors.put(new Key(t.kind(), t.step(), t.index(), t.tensorId()), t);
    notifyAll();
  }

  /** Same as {@link #accept}, for callers that read better with it: {@code DataPlane.connect(..., mailbox::put)}. */
  public void put(DataPlane.Tensor t) {
    accept(t);
  }

  /** From now on keeps only tensors of plan {@code version}: drops all others and lifts a {@link #cancel}. */
  public synchronized void acceptPlan(int version) {
    planVersion = version;
    cancelled = false;
    tensors.values().removeIf(t -> t.planVersion() != version);
  }

  /** The plan version tensors are kept for, or {@link #NO_PLAN}. */
  public synchronized int planVersion() {
    return planVersion;
  }

  /**
   * Aborts what is waiting: takers waiting now or later get a {@link CancellationException} and arriving tensors
   * are dropped until the next {@link #acceptPlan}; kept tensors are dropped too.
   */
  public synchronized void cancel() {
    cancelled = true;
    tensors.clear();
    notifyAll();
  }

  /** Drops kept tensors of steps before {@code step}: leftovers of a finished step. */
  public synchronized void discardStepsBefore(long step) {
    tensors.keySet().removeIf(k -> k.step() < step);
  }

  /** Tensors kept now. */
  public synchronized int size() {
    return tensors.size();
  }

  /** Tensors dropped because they belonged to another plan version or arrived after an abort. */
  public synchronized long dropped() {
    return dropped;
  }

  /**
   * Removes and returns the tensor {@code kind} of {@code step}, microbatch or group {@code index}, tensor
   * {@code tensorId} under plan {@code version}, waiting for it up to {@code timeout}.
   *
   * @throws ReceiveTimeoutException when it has not arrived within {@code timeout}
   * @throws CancellationException when the mailbox is cancelled, another plan is accepted, or the thread is
   *     interrupted while waiting
   */
  public synchronized DataPlane.Tensor take(int version, FrameKind kind, long step, int index, int tensorId,
                                            Duration timeout) {
    Key key = new Key(kind, step, index, tensorId);
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      if (cancelled || planVersion != version) {
        throw new CancellationException("waiting for " + describe(key, version) + ": cancelled ("
            + (cancelled ? "step aborted" : "plan " + planVersion + " installed") + ")");
      }
      DataPlane.Tensor t = tensors.remove(key);
      if (t != null) {
        return t;
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new ReceiveTimeoutException("no " + describe(key, version) + " arrived within "
            + timeout.toMillis() + " ms");
      }
      try {
        wait(Math.max(1, left / 1_000_000), 0);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new CancellationException("interrupted while waiting for " + describe(key, version));
      }
    }
  }

  private static String describe(Key key, int version) {
    String address = switch (key.kind()) {
      case PARAMETERS -> " tensor " + key.tensorId();
      case WEIGHT_GRAD_GROUP_SUM -> " group " + key.index() + " tensor " + key.tensorId();
      default -> " microbatch " + key.index();
    };
    return key.kind() + " of step " + key.step() + address + " (plan " + version + ")";
  }
}
