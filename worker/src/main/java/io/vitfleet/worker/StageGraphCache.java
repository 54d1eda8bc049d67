package io.vitfleet.worker;

import io.vitfleet.model.StageGraph;
import io.vitfleet.model.ViTConfig;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The stage graphs a worker built recently, by block range: building one takes seconds, and a re-plan often gives a
 * worker the stage it already had (a lost shard or feeder changes no stage), so the worker keeps the last few. Not
 * thread-safe: used by the worker's compute thread only, which is also the only user of the graphs.
 */
final class StageGraphCache implements AutoCloseable {
  /**
   * Graphs kept: 2, the current stage and the previous one. Each holds a TensorFlow graph and session (native
   * memory, small beside the activations); more would help only a plan that moves a worker back and forth.
   */
  static final int DEFAULT_CAPACITY = 2;

  private record Range(int firstBlock, int endBlock) {
  }

  private final ViTConfig model;
  private final int microbatch;
  private final int threads;
  private final int capacity;
  /** Access order: the least recently used graph comes first and is closed first. */
  private final LinkedHashMap<Range, StageGraph> graphs = new LinkedHashMap<>(4, 0.75f, true);

  StageGraphCache(ViTConfig model, int microbatch, int threads, int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("stage graph cache capacity must be >= 1, got " + capacity);
    }
    this.model = model;
    this.microbatch = microbatch;
    this.threads = threads;
    this.capacity = capacity;
  }

  /** The training graph of blocks [firstBlock, endBlock), built now unless kept from before. */
  StageGraph get(int firstBlock, int endBlock) {
    Range range = new Range(firstBlock, endBlock);
    StageGraph g = graphs.get(range);
    if (g != null) {
      return g;
    }
    g = StageGraph.training(model, firstBlock, endBlock, microbatch, threads);
    graphs.put(range, g);
    Iterator<Map.Entry<Range, StageGraph>> oldest = graphs.entrySet().iterator();
    while (graphs.size() > capacity) {
      oldest.next().getValue().close();
      oldest.remove();
    }
    return g;
  }

  int size() {
    return graphs.size();
  }

  @Override
  public void close() {
    graphs.values().forEach(StageGraph::close);
    graphs.clear();
  }
}
