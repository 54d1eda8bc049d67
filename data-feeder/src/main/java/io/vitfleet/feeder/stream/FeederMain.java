package io.vitfleet.feeder.stream;

import io.vitfleet.feeder.BatchPlan;
import io.vitfleet.feeder.augment.AugmentSpec;
import io.vitfleet.feeder.augment.DecodePool;
import io.vitfleet.feeder.augment.SampleFailure;
import io.vitfleet.feeder.order.SampleStream;
import io.vitfleet.feeder.order.ShardedEpochOrder;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A feeder process that streams the augmented microbatches of steps [from, to) into a {@link StepFile}: the resume
 * proof runs it, kills it with SIGKILL at a random step, and starts it again on the same file. On start it recovers
 * the file — keeps the committed steps, cuts off a torn one — and continues with the step after the last commit,
 * holding no state but that step, as the architecture asks of a feeder.
 *
 * <p>The data set is {@link GeneratedImages} (no files needed), the order a {@link ShardedEpochOrder}. Each step's
 * payload is, microbatch after microbatch: the b sample indices (i64), the b labels (i32), the decode failures
 * (i32), then the b x S x S x C image floats (f32), all little-endian.
 *
 * <p>Usage: {@code FeederMain --out FILE --to STEP [--from STEP] [--size N] [--shards K] [--window W] [--seed S]
 * [--batch B] [--microbatch b] [--groups G] [--source-side PX] [--image S] [--workers N] [--pause-ms MS]}.
 */
public final class FeederMain {
  /** Settings and their defaults: a tiny job that streams a step in milliseconds. */
  private static final Map<String, String> DEFAULTS = defaults();

  private FeederMain() {
  }

  private static Map<String, String> defaults() {
    Map<String, String> d = new LinkedHashMap<>();
    d.put("out", null);
    d.put("to", null);
    d.put("from", "0");
    d.put("size", "1000");
    d.put("shards", "10");
    d.put("window", "3");
    d.put("seed", "7");
    d.put("batch", "8");
    d.put("microbatch", "4");
    d.put("groups", "2");
    d.put("source-side", "40");
    d.put("image", "24");
    d.put("workers", "2");
    // Sleeps after each microbatch is written, so a kill lands inside a step and leaves a torn record behind.
    d.put("pause-ms", "0");
    return d;
  }

  public static void main(String[] args) {
    try {
      System.exit(run(args, System.out));
    } catch (IllegalArgumentException e) {
      System.err.println("feeder: error: " + e.getMessage());
      System.exit(2);
    } catch (IOException e) {
      System.err.println("feeder: I/O error: " + e.getMessage());
      System.exit(1);
    }
  }

  /**
   * Streams the steps and returns the exit code (0); prints one line on start ("resuming at step t, N committed
   * bytes, M torn bytes cut") and one when done.
   */
  public static int run(String[] args, PrintStream log) throws IOException {
    Map<String, String> o = parse(args);
    Path out = Path.of(required(o, "out"));
    long to = number(o, "to");
    long size = number(o, "size");
    BatchPlan plan = new BatchPlan(integer(o, "batch"), integer(o, "microbatch"), integer(o, "groups"));
    long seed = number(o, "seed");
    SampleStream stream = new SampleStream(ShardedEpochOrder.uniform(size, integer(o, "shards"),
        integer(o, "window")), seed, plan);
    int side = integer(o, "source-side");
    GeneratedImages data = new GeneratedImages(size, side, side, 10);
    AugmentSpec spec = AugmentSpec.training(integer(o, "image"), 3);
    long pauseMs = number(o, "pause-ms");
    StepFile.Recovery before = StepFile.recover(out);
    try (DecodePool pool = new DecodePool(spec, integer(o, "workers"), integer(o, "workers"));
         StepFile file = StepFile.open(out, number(o, "from"))) {
      log.println("feeder: resuming at step " + file.nextStep() + ", " + before.committedBytes()
          + " committed bytes, " + before.tornBytes() + " torn bytes cut");
      log.flush();
      AugmentedMicrobatches microbatches = new AugmentedMicrobatches(stream, data, pool, seed);
      int b = plan.microbatch();
      float[] images = new float[microbatches.imageFloats()];
      int[] labels = new int[b];
      long[] indices = new long[b];
      int microbatchBytes = b * (Long.BYTES + Integer.BYTES) + Integer.BYTES + images.length * Float.BYTES;
      ByteBuffer buffer = ByteBuffer.allocate(microbatchBytes).order(ByteOrder.LITTLE_ENDIAN);
      for (long step = file.nextStep(); step < to; step++) {
        file.begin(step, Math.multiplyExact(microbatchBytes, plan.microbatches()));
        for (int k = 0; k < plan.microbatches(); k++) {
          List<SampleFailure> failures = microbatches.fill(step, k, images, labels, indices);
          buffer.clear();
          for (long index : indices) {
            buffer.putLong(index);
          }
          for (int label : labels) {
            buffer.putInt(label);
          }
          buffer.putInt(failures.size());
          buffer.asFloatBuffer().put(images);
          buffer.position(buffer.limit());
          buffer.flip();
          file.write(buffer);
          pause(pauseMs);
        }
        file.commit();
      }
      log.println("feeder: committed steps up to " + (file.nextStep() - 1));
    }
    return 0;
  }

  private static void pause(long ms) {
    if (ms > 0) {
      try {
        Thread.sleep(ms);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static Map<String, String> parse(String[] args) {
    Map<String, String> o = new LinkedHashMap<>(DEFAULTS);
    for (int i = 0; i < args.length; i++) {
      String name = args[i].startsWith("--") ? args[i].substring(2) : null;
      if (name == null || !o.containsKey(name) || i + 1 >= args.length) {
        throw new IllegalArgumentException("unknown or incomplete option '" + args[i] + "'; options: --"
            + String.join(" --", DEFAULTS.keySet()) + ", each with a value");
      }
      o.put(name, args[++i]);
    }
    return o;
  }

  private static String required(Map<String, String> o, String name) {
    String v = o.get(name);
    if (v == null) {
      throw new IllegalArgumentException("--" + name + " is required");
    }
    return v;
  }

  private static long number(Map<String, String> o, String name) {
    try {
      return Long.parseLong(required(o, name));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + name + " must be a whole number, not '" + o.get(name) + "'", e);
    }
  }

  private static int integer(Map<String, String> o, String name) {
    return Math.toIntExact(number(o, name));
  }
}
