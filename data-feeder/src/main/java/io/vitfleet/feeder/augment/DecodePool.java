package io.vitfleet.feeder.augment;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Decodes and augments the samples of a microbatch in parallel: {@code workers} threads, each with its own
 * {@link Augmenter} (graph and session), take slots from a shared counter and write each result into its slot of the
 * caller's buffer. What lands in a slot depends only on that slot's bytes and key, never on which worker took it or
 * when, so the buffer is byte-identical however the threads interleave.
 *
 * <p>A sample that cannot be decoded does not stop the microbatch: its slot is zero-filled and reported as a
 * {@link SampleFailure}, for the caller's corrupt-data rule.
 */
public final class DecodePool implements AutoCloseable {
  /** The most workers a pool may have; each holds a TensorFlow session (a few MB) and a thread. */
  public static final int MAX_WORKERS = 256;

  private final AugmentSpec spec;
  private final Augmenter[] augmenters;
  private final ExecutorService threads;

  /**
   * @param workers decode threads, each with its own session (1..{@link #MAX_WORKERS}; a core each is the usual
   *     choice: more only adds switching)
   * @param intraOpThreads TensorFlow's process-wide intra-op pool size (see {@link Augmenter#Augmenter})
   */
  public DecodePool(AugmentSpec spec, int workers, int intraOpThreads) {
    if (workers < 1 || workers > MAX_WORKERS) {
      throw new IllegalArgumentException("decode pool: workers must be in 1.." + MAX_WORKERS + ", not " + workers);
    }
    this.spec = Objects.requireNonNull(spec, "spec");
    this.augmenters = new Augmenter[workers];
    try {
      for (int w = 0; w < workers; w++) {
        augmenters[w] = new Augmenter(spec, intraOpThreads);
      }
    } catch (RuntimeException e) {
      closeAugmenters();
      throw e;
    }
    this.threads = Executors.newFixedThreadPool(workers, namedDaemons());
  }

  public AugmentSpec spec() {
    return spec;
  }

  public int workers() {
    return augmenters.length;
  }

  /**
   * Decodes and augments slots [0, count): slot s takes {@code encoded[s]}, with the key of (seed, epochs[s],
   * indices[s]), and its S x S x C floats go to {@code out[s * spec().floatsPerImage() ..]}.
   *
   * @return the slots that could not be decoded (zero-filled), in slot order; empty when all were
   */
  public List<SampleFailure> augment(byte[][] encoded, long seed, long[] epochs, long[] indices, int count,
                                     float[] out) {
    Objects.checkFromIndexSize(0, count, encoded.length);
    Objects.checkFromIndexSize(0, count, epochs.length);
    Objects.checkFromIndexSize(0, count, indices.length);
    int floats = spec.floatsPerImage();
    if ((long) count * floats > out.length) {
      throw new IllegalArgumentException("output buffer holds " + out.length + " floats; " + count + " images of "
          + spec.size() + "x" + spec.size() + "x" + spec.channels() + " need " + (long) count * floats);
    }
    AtomicInteger next = new AtomicInteger();
    SampleFailure[] failures = new SampleFailure[count];
    List<Callable<Void>> tasks = new ArrayList<>();
    for (int w = 0; w < Math.min(count, augmenters.length); w++) {
      Augmenter augmenter = augmenters[w];
      tasks.add(() -> {
        for (int slot = next.getAndIncrement(); slot < count; slot = next.getAndIncrement()) {
          try {
            augmenter.augment(encoded[slot], AugmentKey.of(seed, epochs[slot], indices[slot]), out, slot * floats);
          } catch (ImageFormatException e) {
            Arrays.fill(out, slot * floats, (slot + 1) * floats, 0f);
            failures[slot] = new SampleFailure(slot, indices[slot], e.getMessage());
          }
        }
        return null;
      });
    }
    runAll(tasks);
    List<SampleFailure> failed = new ArrayList<>();
    for (SampleFailure f : failures) {
      if (f != null) {
        failed.add(f);
      }
    }
    return failed.isEmpty() ? List.of() : Collections.unmodifiableList(failed);
  }

  private void runAll(List<Callable<Void>> tasks) {
    try {
      for (Future<Void> f : threads.invokeAll(tasks)) {
        f.get();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while decoding a microbatch", e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException("decoding a microbatch failed: " + cause, cause);
    }
  }

  private static ThreadFactory namedDaemons() {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, "vitfleet-decode-" + n.getAndIncrement());
      t.setDaemon(true);
      return t;
    };
  }

  private void closeAugmenters() {
    for (Augmenter a : augmenters) {
      if (a != null) {
        a.close();
      }
    }
  }

  /** Stops the threads (after the running microbatch, if any) and closes the sessions. */
  @Override
  public void close() {
    threads.shutdown();
    try {
      threads.awaitTermination(1, java.util.concurrent.TimeUnit.MINUTES);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    closeAugmenters();
  }
}
