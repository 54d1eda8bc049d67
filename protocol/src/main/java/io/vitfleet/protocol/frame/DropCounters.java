package io.vitfleet.protocol.frame;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Counts of dropped frames per {@link DropReason}, and of tensors abandoned unfinished. Written by one receiving
 * thread, read by any (metrics, tests): atomic counters, no allocation on increment.
 */
public final class DropCounters {
  private static final DropReason[] REASONS = DropReason.values();

  private final AtomicLongArray frames = new AtomicLongArray(REASONS.length);
  private final AtomicLong abandoned = new AtomicLong();

  public void increment(DropReason reason) {
    frames.incrementAndGet(reason.ordinal());
  }

  /** Frames dropped for this reason so far. */
  public long get(DropReason reason) {
    return frames.get(reason.ordinal());
  }

  /** Frames dropped for any reason so far. */
  public long total() {
    long sum = 0;
    for (int i = 0; i < REASONS.length; i++) {
      sum += frames.get(i);
    }
    return sum;
  }

  void addAbandonedTensors(long n) {
    abandoned.addAndGet(n);
  }

  /** Tensors whose chunks were discarded before completion (plan change, step abort). */
  public long abandonedTensors() {
    return abandoned.get();
  }

  /** A snapshot for metrics: reason -> count, every reason present. */
  public Map<DropReason, Long> snapshot() {
    Map<DropReason, Long> map = new EnumMap<>(DropReason.class);
    for (DropReason r : REASONS) {
      map.put(r, get(r));
    }
    return map;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("DropCounters{");
    for (DropReason r : REASONS) {
      sb.append(r.metricName()).append('=').append(get(r)).append(", ");
    }
    return sb.append("abandoned_tensors=").append(abandonedTensors()).append('}').toString();
  }
}
