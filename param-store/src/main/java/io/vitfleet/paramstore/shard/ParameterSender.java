package io.vitfleet.paramstore.shard;

import io.vitfleet.protocol.control.Endpoint;
import io.vitfleet.protocol.frame.FrameKind;
import io.vitfleet.protocol.frame.TensorDescriptor;
import io.vitfleet.protocol.link.DataPlane;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Sends a step's committed parameters ({@code PARAMETERS} frames) to the workers that hold them, on one thread of its
 * own: a send blocks under back pressure, and up to {@link DataPlane#CONNECT_TIMEOUT_NS} while a new or restarted
 * worker's subscription appears, and the shard actor must keep answering meanwhile. A newer batch (or
 * {@link #cancel()}) stops an older one between two tensors.
 */
final class ParameterSender implements AutoCloseable {
  /** Batch id meaning "none": nothing may send. */
  private static final long NONE = -1;
  /** How long closing waits for a tensor being sent to finish. */
  private static final long CLOSE_WAIT_SECONDS = 5;

  /** One tensor to one worker: {@code data[offset, offset + length)} with shape {@code shape}. */
  record Send(Endpoint worker, int stage, int tensorId, int[] shape, float[] data, int offset, int length) {
  }

  private final DataPlane dataPlane;
  private final ExecutorService thread;
  private final AtomicLong current = new AtomicLong(NONE);

  ParameterSender(DataPlane dataPlane, String threadName) {
    this.dataPlane = dataPlane;
    this.thread = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, threadName);
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * Queues batch {@code batch}: the parameters of step {@code step} under plan {@code planVersion}. The future gives
   * the number of tensors sent (fewer if a newer batch or a cancel stopped it), or fails with the send's error.
   */
  CompletableFuture<Integer> send(long batch, long step, int planVersion, List<Send> sends) {
    current.set(batch);
    return CompletableFuture.supplyAsync(() -> {
      TensorDescriptor d = new TensorDescriptor();
      int sent = 0;
      for (Send s : sends) {
        if (current.get() != batch) {
          break;
        }
        d.kind(FrameKind.PARAMETERS).planVersion(planVersion).step(step).microbatchOrGroup(0).stage(s.stage())
            .tensorId(s.tensorId()).shape(s.shape());
        dataPlane.send(s.worker(), d, s.data(), s.offset(), s.length());
        sent++;
      }
      return sent;
    }, thread);
  }

  /** Stops the batch being sent after its current tensor. */
  void cancel() {
    current.set(NONE);
  }

  @Override
  public void close() {
    cancel();
    thread.shutdown();
    try {
      thread.awaitTermination(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
