package io.vitfleet.bench;

import io.vitfleet.model.HeadType;
import io.vitfleet.model.LossType;
import io.vitfleet.model.ModelInfo;
import io.vitfleet.model.Variant;
import io.vitfleet.model.ViTConfig;
import io.vitfleet.model.ViTParameters;
import io.vitfleet.ops.JsonOutput;
import io.vitfleet.ops.UserError;
import io.vitfleet.paramstore.Adafactor;
import io.vitfleet.paramstore.FlatFloats;
import io.vitfleet.paramstore.OptimizerConfig;
import io.vitfleet.paramstore.OptimizerState;
import io.vitfleet.paramstore.Schedule;
import io.vitfleet.protocol.SecondMomentLayout;
import io.vitfleet.protocol.ParameterManifest;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code vitfleet bench optimizer}: the paper's Adafactor over a ViT-shaped manifest, against a STREAM-triad pass
 * over the same number of bytes in the same run. The update is memory-bound, so the ratio of the two bandwidths says
 * how close the update loop comes to what this machine's memory allows the same number of threads.
 */
@Command(name = "optimizer", mixinStandardHelpOptions = true,
    description = {"Times Adafactor steps (global norm + update, on --threads threads) over a ViT-B-width manifest of",
        "about --params parameters, beside a STREAM triad (a[i] = b[i] + s*c[i]) over the same bytes; prints JSON."})
final class OptimizerBench implements Callable<Integer> {
  /** Bytes the triad moves per element: reads b and c, writes a (float32; write-allocate not counted, as STREAM). */
  private static final int TRIAD_BYTES_PER_ELEMENT = 12;
  /** Largest triad array: 2^27 floats (512 MiB), far beyond any cache; larger runs take several passes. */
  private static final int TRIAD_MAX_ELEMENTS = 1 << 27;
  /**
   * ViT-B/32's patching: its 32x32x3x768 patch kernel is factored by the spec's rule (second-largest dimension 32 >=
   * 32), where B/16's 16x16x3x768 one is not (16 < 32) and alone adds 0.027 bytes of fp32 second moment per
   * parameter. Both models' figures are in the JSON ({@code state_bytes_per_param_by_model}).
   */
  private static final int PATCH = 32;
  /** Paper models whose optimizer-state bytes per parameter the JSON lists beside the benchmarked one. */
  private static final List<String> STATE_TABLE = List.of("B/16", "B/32", "L/16", "H/14", "g/14", "G/14");
  private static final int IMAGE = 224;
  private static final int CLASSES = 1000;

  @Option(names = "--json", paramLabel = "FILE", description = "Also write the JSON result to FILE.")
  Path json;

  @Option(names = "--params", paramLabel = "N", defaultValue = "100000000",
      description = "Approximate parameter count; the encoder depth is chosen to come closest (default: "
          + "${DEFAULT-VALUE}).")
  long params;

  @Option(names = "--steps", paramLabel = "K", defaultValue = "5",
      description = "Timed optimizer steps, and as many triad repetitions (default: ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--warmup", paramLabel = "K", defaultValue = "2",
      description = "Untimed steps first, so the JIT has compiled the loops (default: ${DEFAULT-VALUE}).")
  int warmup;

  @Option(names = "--threads", paramLabel = "T",
      description = "Threads of the optimizer update and of the triad alike (default: the available processors).")
  Integer threads;

  @Override
  public Integer call() {
    int t = threads != null ? threads : Runtime.getRuntime().availableProcessors();
    if (t < 1) {
      throw new UserError("--threads must be positive, got " + t);
    }
    if (params < 10_000_000) {
      throw new UserError("--params " + params + " is too small for a ViT-B-width model (one block is ~7M); "
          + "use at least 10000000");
    }
    if (steps < 1 || warmup < 0) {
      throw new UserError("--steps must be >= 1 and --warmup >= 0, got " + steps + " and " + warmup);
    }
    ViTConfig model = modelOfAbout(params);
    ParameterManifest manifest = ViTParameters.manifest(model);
    long n = manifest.totalSize();
    // fp32 parameters and gradients, bf16 momentum, and the triad's three arrays (at most 1.5 GiB).
    long heapNeeded = 10 * n + 3L * 4 * Math.min(TRIAD_MAX_ELEMENTS, 2 * n) + (256L << 20);
    if (heapNeeded > Runtime.getRuntime().maxMemory()) {
      throw new UserError("--params " + params + " needs about " + (heapNeeded >> 30) + " GiB of heap but the JVM has "
          + (Runtime.getRuntime().maxMemory() >> 30) + " GiB; run with VITFLEET_HEAP=-Xmx" + ((heapNeeded >> 30) + 2)
          + "g or choose fewer parameters");
    }
    Adafactor opt = new Adafactor(OptimizerConfig.defaults(Schedule.rsqrt(1_000_000, 10_000, 50_000, 10_000)),
        manifest, t);
    OptimizerState state = opt.newState();
    FlatFloats p = FlatFloats.allocate(manifest);
    FlatFloats g = FlatFloats.allocate(manifest);
    fill(p, manifest, 1, 0.02);
    // Gradients with a global norm near 2, so every step takes the clipping path (a division per element).
    fill(g, manifest, 2, 2.0 / Math.sqrt(n / 3.0));
    long bytesPerStep = bytesPerStep(manifest, state);

    int triadLength = (int) Math.min(TRIAD_MAX_ELEMENTS, Math.max(1, bytesPerStep / TRIAD_BYTES_PER_ELEMENT));
    int triadPasses = (int) Math.max(1, Math.round((double) bytesPerStep / TRIAD_BYTES_PER_ELEMENT / triadLength));
    float[] a = new float[triadLength];
    float[] b = new float[triadLength];
    float[] c = new float[triadLength];
    Arrays.fill(b, 1f);
    Arrays.fill(c, 2f);
    long triadBytes = (long) TRIAD_BYTES_PER_ELEMENT * triadLength * triadPasses;

    double loadBefore = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    long count = 20_000;
    for (int i = 0; i < warmup; i++) {
      step(opt, p, g, state, count++);
      triad(a, b, c, triadPasses, t);
    }
    double[] optSeconds = new double[steps];
    double[] triadSeconds = new double[steps];
    double checksum = 0;
    long collections = 0;
    for (int i = 0; i < steps; i++) {
      long c0 = collections();
      long t0 = System.nanoTime();
      checksum += step(opt, p, g, state, count++);
      long t1 = System.nanoTime();
      collections += collections() - c0;
      checksum += triad(a, b, c, triadPasses, t);
      long t2 = System.nanoTime();
      optSeconds[i] = (t1 - t0) * 1e-9;
      triadSeconds[i] = (t2 - t1) * 1e-9;
    }
    // Best of the repetitions for both, as STREAM reports: other work on the machine only ever adds time.
    double optBest = Arrays.stream(optSeconds).min().orElseThrow();
    double triadBest = Arrays.stream(triadSeconds).min().orElseThrow();
    double gbps = bytesPerStep / optBest / 1e9;
    double refGbps = triadBytes / triadBest / 1e9;
    double gbpsMedian = bytesPerStep / median(optSeconds) / 1e9;
    double refGbpsMedian = triadBytes / median(triadSeconds) / 1e9;

    Map<String, Object> out = new LinkedHashMap<>();
    out.put("bench", "optimizer");
    out.put("model", model.describe() + " (ViT-B/32, depth chosen for --params)");
    out.put("params", n);
    out.put("tensors", manifest.count());
    out.put("threads", t);
    out.put("warmup_steps", warmup);
    out.put("timed_steps", steps);
    out.put("timing", "best of the timed steps (and of as many triad repetitions, interleaved), as STREAM reports; "
        + "medians beside");
    out.put("seconds_per_step", optBest);
    out.put("params_per_second", n / optBest);
    out.put("gbytes_per_second", gbps);
    out.put("bytes_per_step", bytesPerStep);
    out.put("bytes_counted_per_param", (double) bytesPerStep / n);
    out.put("bytes_counted", "per parameter of a factored tensor 24: gradient read 3x (global norm, second-moment "
        + "statistics, update) 12 + fp32 parameter read+write 8 + bf16 momentum read+write 4; of an unfactored "
        + "tensor 28 (no statistics pass, + fp32 v read+write 8); + v_row/v_col read+write 8 per element");
    out.put("reference", "STREAM triad a[i] = b[i] + s*c[i] over float[" + triadLength + "] x " + triadPasses
        + " passes, 12 bytes per element, on the same " + t + " thread(s), each a contiguous part");
    out.put("reference_gbytes_per_second", refGbps);
    out.put("ratio", gbps / refGbps);
    out.put("seconds_per_step_median", median(optSeconds));
    out.put("gbytes_per_second_median", gbpsMedian);
    out.put("reference_gbytes_per_second_median", refGbpsMedian);
    out.put("ratio_median", gbpsMedian / refGbpsMedian);
    // The update allocates next to nothing (its helper threads): more than an odd collection during the timed steps
    // means garbage from the update itself, such as vector code the JIT left boxed on the heap.
    out.put("gc_collections_during_timed_steps", collections);
    out.put("state_bytes_per_param", (double) state.bytes() / n);
    out.put("state_bytes_breakdown_per_param", stateBreakdown(manifest, state));
    out.put("state_bytes_per_param_by_model", stateTable());
    out.put("adam_state_bytes_per_param", 8.0);
    out.put("step_seconds", optSeconds);
    out.put("triad_seconds", triadSeconds);
    out.put("checksum", checksum);
    out.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
    out.put("available_processors", Runtime.getRuntime().availableProcessors());
    // Both figures share the machine with whatever else runs; the 1-minute load average says how busy it was.
    out.put("system_load_average_before", loadBefore);
    out.put("system_load_average_after", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    try {
      System.out.println(JsonOutput.mapper().writeValueAsString(out));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("cannot render the bench result as JSON", e);
    }
    if (json != null) {
      JsonOutput.write(json, out);
    }
    return 0;
  }

  /**
   * Optimizer-state bytes per parameter (bf16 momentum + fp32 second moment, factored where the spec factors) of the
   * paper's models at 224px with a MAP head and 1000 classes, from their manifests (nothing allocated).
   */
  static Map<String, Double> stateTable() {
    Map<String, Double> table = new LinkedHashMap<>();
    for (String name : STATE_TABLE) {
      ModelInfo info = ModelInfo.of(ViTConfig.of(name, IMAGE, 3, CLASSES));
      table.put(name, (double) info.bytesOptimizerState() / info.paramsTotal());
    }
    return table;
  }

  /** A ViT-B/32 at 224px with a MAP head and 1000 classes, with the depth that brings it closest to {@code target}. */
  static ViTConfig modelOfAbout(long target) {
    Variant b = Variant.named("B");
    long one = ViTParameters.manifest(withDepth(b, 1)).totalSize();
    long perBlock = ViTParameters.manifest(withDepth(b, 2)).totalSize() - one;
    long depth = Math.max(1, Math.round((double) (target - (one - perBlock)) / perBlock));
    if (depth > 100_000) {
      throw new UserError("--params " + target + " needs " + depth + " blocks; choose a smaller count");
    }
    return withDepth(b, (int) depth);
  }

  private static ViTConfig withDepth(Variant b, int depth) {
    return new ViTConfig(new Variant(b.name(), b.width(), depth, b.mlp(), b.heads()), PATCH, IMAGE, 3, CLASSES,
        HeadType.MAP, LossType.SOFTMAX);
  }

  /** One optimizer step as a shard or trainer runs it: the global norm, then the update. */
  private static double step(Adafactor opt, FlatFloats p, FlatFloats g, OptimizerState state, long count) {
    double norm = Math.sqrt(opt.squaredNorm(g, 0, opt.manifest().count()));
    opt.update(p, g, state, count, norm);
    return norm;
  }

  /** The triad on {@code threads} threads, each over a contiguous part of the arrays. */
  private static float triad(float[] a, float[] b, float[] c, int passes, int threads) {
    if (threads == 1) {
      return triad(a, b, c, 0, a.length, passes);
    }
    Thread[] workers = new Thread[threads];
    int part = (a.length + threads - 1) / threads;
    for (int w = 0; w < threads; w++) {
      int from = Math.min(a.length, w * part);
      int to = Math.min(a.length, from + part);
      workers[w] = new Thread(() -> triad(a, b, c, from, to, passes), "triad-" + w);
      workers[w].start();
    }
    for (Thread w : workers) {
      try {
        w.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted during the triad", e);
      }
    }
    return a[0] + a[a.length - 1];
  }

  private static float triad(float[] a, float[] b, float[] c, int from, int to, int passes) {
    float s = 3f;
    for (int pass = 0; pass < passes; pass++) {
      for (int i = from; i < to; i++) {
        a[i] = b[i] + s * c[i];
      }
    }
    return to > from ? a[(from + to) / 2] : 0f;
  }

  /** Bytes one step reads and writes, counted as {@code bytes_counted} describes. */
  static long bytesPerStep(ParameterManifest m, OptimizerState state) {
    long bytes = 0;
    for (int i = 0; i < m.count(); i++) {
      SecondMomentLayout l = state.layout(i);
      long size = m.get(i).size();
      bytes += l.factored() ? 24 * size + 8L * (l.rowSize() + l.colSize()) : 28 * size;
    }
    return bytes;
  }

  private static Map<String, Double> stateBreakdown(ParameterManifest m, OptimizerState state) {
    long momentum = 0;
    long factored = 0;
    long full = 0;
    for (int i = 0; i < m.count(); i++) {
      SecondMomentLayout l = state.layout(i);
      momentum += 2 * m.get(i).size();
      if (l.factored()) {
        factored += 4L * (l.rowSize() + l.colSize());
      } else {
        full += 4 * m.get(i).size();
      }
    }
    double n = m.totalSize();
    Map<String, Double> out = new LinkedHashMap<>();
    out.put("bf16_momentum", momentum / n);
    out.put("factored_second_moment", factored / n);
    out.put("full_second_moment", full / n);
    return out;
  }

  private static void fill(FlatFloats f, ParameterManifest m, long seed, double scale) {
    SplittableRandom rnd = new SplittableRandom(seed);
    for (int t = 0; t < m.count(); t++) {
      float[] a = f.array(t);
      int off = f.offset(t);
      int size = (int) m.get(t).size();
      for (int i = 0; i < size; i++) {
        a[off + i] = (float) ((rnd.nextDouble() * 2 - 1) * scale);
      }
    }
  }

  /** Garbage collections so far, all collectors. */
  private static long collections() {
    long n = 0;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      n += Math.max(0, gc.getCollectionCount());
    }
    return n;
  }

  private static double median(double[] x) {
    double[] s = x.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : 0.5 * (s[s.length / 2 - 1] + s[s.length / 2]);
  }
}
