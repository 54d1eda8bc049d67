package io.vitfleet.paramstore.shard;

import io.vitfleet.protocol.link.DataPlane;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Where a shard's data plane puts the tensors it receives: the sink given to {@link DataPlane#connect}. The data
 * plane's subscriber thread adds each tensor here and wakes the {@link ShardActor}, which drains the queue on its own
 * thread; tensors stay out of actor messages, and one wake-up covers any number of tensors that arrived meanwhile.
 * Tensors that arrive before the actor has started wait here; once the actor has stopped they are dropped.
 */
public final class ShardInbox implements Consumer<DataPlane.Tensor> {
  private final Queue<DataPlane.Tensor> queue = new ConcurrentLinkedQueue<>();
  /** Whether a wake-up is pending (sent and not yet drained): then arrivals need not send another. */
  private final AtomicBoolean woken = new AtomicBoolean();
  private volatile Runnable wake;
  private volatile boolean closed;

  /** Called on the data plane's subscriber thread. */
  @Override
  public void accept(DataPlane.Tensor tensor) {
    if (closed) {
      return;
    }
    queue.add(tensor);
    wakeIfBound();
  }

  /** Binds the actor's wake-up (it must end in a drain on the actor's thread) and wakes it for what already waits. */
  void bind(Runnable wakeUp) {
    this.wake = wakeUp;
    if (!queue.isEmpty()) {
      wakeIfBound();
    }
  }

  private void wakeIfBound() {
    Runnable w = wake;
    if (w != null && woken.compareAndSet(false, true)) {
      w.run();
    }
  }

  /** Hands every waiting tensor to {@code handler}, in arrival order; called by the actor when woken. */
  void drainTo(Consumer<DataPlane.Tensor> handler) {
    // Re-arm before draining: a tensor added after this line either is drained below or sends a new wake-up.
    woken.set(false);
    for (DataPlane.Tensor t = queue.poll(); t != null; t = queue.poll()) {
      handler.accept(t);
    }
  }

  /** Drops what waits and whatever arrives from now on: the actor has stopped. */
  void close() {
    closed = true;
    wake = null;
    queue.clear();
  }
}
