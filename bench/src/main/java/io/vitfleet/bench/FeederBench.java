package io.vitfleet.bench;

import com.sun.management.OperatingSystemMXBean;
import io.vitfleet.feeder.augment.AugmentSpec;
import io.vitfleet.feeder.augment.DecodePool;
import io.vitfleet.feeder.augment.SampleFailure;
import io.vitfleet.ops.JsonOutput;
import io.vitfleet.ops.UserError;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.image.EncodeJpeg;
import org.tensorflow.op.image.EncodePng;
import org.tensorflow.types.TString;
import org.tensorflow.types.TUint8;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code vitfleet bench feeder}: the feeder's decode + inception crop + flip (+ resize and normalisation) of 224x224
 * JPEGs, in images per CPU-second, beside libjpeg-turbo's {@code djpeg} decoding the same files in the same run.
 *
 * <p>How the two are measured, so the ratio is fair. Both are CPU time, not wall time, because the machine may be
 * shared: the feeder's is the JVM's process CPU time over the timed passes (all threads: the pool, GC, JIT), the
 * reference's the children's user + system time reported by the shell's {@code times} after running {@code djpeg
 * -outfile /dev/null FILE} once per file, minus the same number of {@code djpeg} runs on an 8x8 JPEG (the cost of
 * starting a process, which the feeder never pays per image). The rounds alternate the two, and medians are reported.
 */
@Command(name = "feeder", mixinStandardHelpOptions = true,
    description = {"Times the feeder's JPEG decode + inception crop + flip + resize + normalise (a pool of TensorFlow",
        "sessions) on generated 224x224 JPEGs, beside djpeg (libjpeg-turbo) decoding the same files; prints JSON."})
final class FeederBench implements Callable<Integer> {
  /** The demo trains a tiny ViT on 28x28 Fashion-MNIST at about this rate on 2 cores (see the demo's README). */
  static final double DEMO_IMAGES_PER_SECOND = 1300;
  private static final Pattern TIMES = Pattern.compile("(\\d+)m([0-9.]+)s\\s+(\\d+)m([0-9.]+)s");

  @Option(names = "--json", paramLabel = "FILE", description = "Also write the JSON result to FILE.")
  Path json;

  @Option(names = "--images", paramLabel = "N", defaultValue = "64",
      description = "Generated JPEG files, decoded by both (default: ${DEFAULT-VALUE}).")
  int images;

  @Option(names = "--side", paramLabel = "PX", defaultValue = "224",
      description = "Side of the generated JPEGs (default: ${DEFAULT-VALUE}).")
  int side;

  @Option(names = "--size", paramLabel = "S", defaultValue = "224",
      description = "Side of the feeder's output images (default: ${DEFAULT-VALUE}).")
  int size;

  @Option(names = "--quality", paramLabel = "Q", defaultValue = "90",
      description = "JPEG quality of the generated files (default: ${DEFAULT-VALUE}).")
  int quality;

  @Option(names = "--workers", paramLabel = "N",
      description = "Decode pool workers (default: vitfleet.feeder.decode.workers of the configuration).")
  Integer workers;

  @Option(names = "--rounds", paramLabel = "R", defaultValue = "5",
      description = "Timed rounds, each a feeder pass and a djpeg pass (default: ${DEFAULT-VALUE}).")
  int rounds;

  @Option(names = "--passes", paramLabel = "P", defaultValue = "20",
      description = "Feeder passes over the files per round (default: ${DEFAULT-VALUE}).")
  int passes;

  @Option(names = "--djpeg-passes", paramLabel = "P", defaultValue = "20",
      description = "djpeg passes over the files per round: more than the feeder's, because the decode time is what"
          + " remains after subtracting process starts, and bash 'times' counts in 10 ms ticks "
          + "(default: ${DEFAULT-VALUE}).")
  int djpegPasses;

  @Option(names = "--demand-images-per-second", paramLabel = "X", defaultValue = "1300",
      description = "What the trainer consumes; the default is the demo's Fashion-MNIST rate on 2 cores "
          + "(default: ${DEFAULT-VALUE}).")
  double demand;

  @Option(names = "--djpeg", paramLabel = "PATH", defaultValue = "djpeg",
      description = "The djpeg to compare with (Debian: libjpeg-turbo-progs) (default: ${DEFAULT-VALUE}).")
  String djpeg;

  @Override
  public Integer call() throws IOException, InterruptedException {
    if (images < 1 || side < 8 || size < 1 || quality < 1 || quality > 100 || rounds < 1 || passes < 1
        || djpegPasses < 1 || demand <= 0) {
      throw new UserError("--images, --rounds, --passes, --djpeg-passes must be >= 1, --side >= 8, --quality in "
          + "1..100 and --demand-images-per-second > 0");
    }
    int pool = workers != null ? workers : io.vitfleet.feeder.augment.DecodePoolSettings.load().workers();
    Path dir = Files.createTempDirectory("vitfleet-bench-feeder");
    try {
      byte[][] jpegs = generateJpegs(images, side, quality);
      List<String> files = new ArrayList<>();
      for (int i = 0; i < images; i++) {
        Path f = dir.resolve(String.format("img%04d.jpg", i));
        Files.write(f, jpegs[i]);
        files.add(f.toString());
      }
      Path tiny = dir.resolve("tiny.jpg");
      Files.write(tiny, generateJpegs(1, 8, quality)[0]);
      List<String> tinies = new ArrayList<>();
      for (int i = 0; i < images; i++) {
        tinies.add(tiny.toString());
      }

      AugmentSpec spec = AugmentSpec.training(size, 3);
      double[] feederPerCpu = new double[rounds];
      double[] feederPerWall = new double[rounds];
      double[] refNet = new double[rounds];
      double[] refRaw = new double[rounds];
      double[] startupMs = new double[rounds];
      double[] ratios = new double[rounds];
      double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
      try (DecodePool decoder = new DecodePool(spec, pool, pool)) {
        float[] out = new float[images * spec.floatsPerImage()];
        feederPass(decoder, jpegs, out, 2, 0);
        djpegCpuSeconds(files, 1);
        for (int r = 0; r < rounds; r++) {
          double[] f = feederPass(decoder, jpegs, out, passes, r + 1);
          feederPerCpu[r] = (double) images * passes / f[1];
          feederPerWall[r] = (double) images * passes / f[0];
          double decodeCpu = djpegCpuSeconds(files, djpegPasses);
          double startup = djpegCpuSeconds(tinies, djpegPasses);
          refRaw[r] = (double) images * djpegPasses / decodeCpu;
          refNet[r] = decodeCpu > startup ? images * djpegPasses / (decodeCpu - startup) : Double.NaN;
          startupMs[r] = startup / (images * djpegPasses) * 1e3;
          ratios[r] = feederPerCpu[r] / refNet[r];
        }
      }
      Map<String, Object> demo = demoWorkload(pool);

      double perCore = median(feederPerCpu);
      double capacity = perCore * pool;
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("bench", "feeder");
      out.put("pipeline", "TF DecodeAndCropJpeg (integer-accurate IDCT, decodes only the crop window) -> inception "
          + "crop (area 5..100%, aspect 3/4..4/3, keyed in Java) -> flip (50%) -> x/127.5-1 -> bilinear resize to "
          + size + "x" + size + " -> float[] slot of the caller's buffer");
      out.put("input", images + " generated " + side + "x" + side + " RGB JPEGs, quality " + quality + ", 4:2:0, "
          + "mean " + Arrays.stream(jpegs).mapToInt(b -> b.length).sum() / images + " bytes");
      out.put("workers", pool);
      out.put("available_processors", Runtime.getRuntime().availableProcessors());
      out.put("load_average_at_start", load);
      out.put("images_per_second_per_core", perCore);
      out.put("images_per_second_per_core_means", "images per CPU-second of this JVM over the timed passes (all "
          + "threads: pool, GC, JIT); median of the rounds");
      out.put("reference", "djpeg -outfile /dev/null FILE, one process per file, sequential; CPU time of the "
          + "children (user+sys, from bash 'times') minus the same number of runs on an 8x8 JPEG (process start)");
      out.put("reference_images_per_second_per_core", median(refNet));
      out.put("reference_images_per_second_per_core_with_process_start", median(refRaw));
      out.put("djpeg_process_start_ms", median(startupMs));
      out.put("djpeg_version", djpegVersion());
      out.put("ratio", median(ratios));
      out.put("ratio_means", "median over the rounds of feeder / reference, each round timing both back to back");
      out.put("feeder_images_per_second", capacity);
      out.put("feeder_images_per_second_means", "images_per_second_per_core x " + pool + " workers: the pool's rate "
          + "on " + pool + " cores of its own (samples are independent; the pool waits only at the end of a "
          + "microbatch)");
      out.put("feeder_images_per_second_wall", median(feederPerWall));
      out.put("feeder_images_per_second_wall_means", "measured wall-clock rate in this run; lower than "
          + "feeder_images_per_second when other processes share the cores (see load_average_at_start)");
      out.put("demand_images_per_second", demand);
      out.put("demand_source", demand == DEMO_IMAGES_PER_SECOND
          ? "the demo's trainer: about 1300 images/s of 28x28 Fashion-MNIST on 2 cores (default)"
          : "--demand-images-per-second");
      out.put("demand_ratio", capacity / demand);
      out.put("demand_ratio_means", "feeder_images_per_second (" + size + "x" + size + " JPEG pipeline, " + pool
          + " cores) / demand_images_per_second");
      out.put("demand_ratio_per_core", perCore / demand);
      out.put("demand_ratio_wall", median(feederPerWall) / demand);
      demo.put("demand_ratio", ((Double) demo.get("images_per_second_per_core")) * pool / demand);
      out.put("demo_workload", demo);
      out.put("rounds", rounds);
      out.put("passes_per_round", passes);
      out.put("djpeg_passes_per_round", djpegPasses);
      out.put("feeder_images_per_cpu_second_by_round", feederPerCpu);
      out.put("feeder_images_per_second_by_round", feederPerWall);
      out.put("reference_images_per_cpu_second_by_round", refNet);
      out.put("ratio_by_round", ratios);
      out.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
      System.out.println(JsonOutput.mapper().writeValueAsString(out));
      if (json != null) {
        JsonOutput.write(json, out);
      }
      return 0;
    } finally {
      try (Stream<Path> s = Files.walk(dir)) {
        s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  /** {wall seconds, process CPU seconds} of {@code passes} microbatches of all the files, keys new each pass. */
  private static double[] feederPass(DecodePool pool, byte[][] jpegs, float[] out, int passes, int round) {
    OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    int n = jpegs.length;
    long[] indices = new long[n];
    long[] epochs = new long[n];
    for (int i = 0; i < n; i++) {
      indices[i] = i;
    }
    long cpu0 = os.getProcessCpuTime();
    long t0 = System.nanoTime();
    for (int p = 0; p < passes; p++) {
      Arrays.fill(epochs, (long) round * passes + p);
      List<SampleFailure> failures = pool.augment(jpegs, 1, epochs, indices, n, out);
      if (!failures.isEmpty()) {
        throw new IllegalStateException("the feeder could not decode a generated JPEG: " + failures.get(0));
      }
    }
    return new double[] {(System.nanoTime() - t0) * 1e-9, (os.getProcessCpuTime() - cpu0) * 1e-9};
  }

  /** Children CPU seconds (user + sys) of running djpeg on each file, {@code passes} times over. */
  private double djpegCpuSeconds(List<String> files, int passes) throws IOException, InterruptedException {
    String script = "for p in $(seq " + passes + "); do for f in \"$@\"; do \"$DJPEG\" -outfile /dev/null \"$f\""
        + " || exit 3; done; done; times";
    List<String> command = new ArrayList<>(List.of("bash", "-c", script, "bash"));
    command.addAll(files);
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().put("DJPEG", djpeg);
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new UserError("cannot run bash for the djpeg reference: " + e.getMessage(), e);
    }
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new UserError("djpeg failed (" + djpeg + "): " + output.strip() + "; install libjpeg-turbo-progs "
          + "(apt-get install libjpeg-turbo-progs) or pass --djpeg PATH");
    }
    String[] lines = output.strip().split("\n");
    Matcher m = TIMES.matcher(lines[lines.length - 1]);
    if (!m.find()) {
      throw new IllegalStateException("cannot read the children's CPU time from bash 'times': " + output);
    }
    return Integer.parseInt(m.group(1)) * 60 + Double.parseDouble(m.group(2)) + Integer.parseInt(m.group(3)) * 60
        + Double.parseDouble(m.group(4));
  }

  private String djpegVersion() throws IOException, InterruptedException {
    Process p = new ProcessBuilder(djpeg, "-version").redirectErrorStream(true).start();
    String v = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    p.waitFor();
    return v.lines().findFirst().orElse("unknown");
  }

  /**
   * The demo's own workload, for scale: 28x28 grey PNGs (Fashion-MNIST as {@code dataset import} stores it) through
   * inception crop + flip to 28x28x1.
   */
  private static Map<String, Object> demoWorkload(int pool) {
    int n = 256;
    byte[][] pngs = new byte[n][];
    SplittableRandom random = new SplittableRandom(3);
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TUint8> in = tf.placeholder(TUint8.class, Placeholder.shape(Shape.of(28, 28, 1)));
      EncodePng png = tf.image.encodePng(in);
      try (Session s = new Session(g)) {
        for (int i = 0; i < n; i++) {
          byte[] px = new byte[28 * 28];
          for (int k = 0; k < px.length; k++) {
            px[k] = (byte) (random.nextInt(4) == 0 ? 0 : random.nextInt(256));
          }
          try (TUint8 t = TUint8.tensorOf(Shape.of(28, 28, 1), DataBuffers.of(px, true, false));
               Result r = s.runner().feed(in, t).fetch(png).run()) {
            pngs[i] = ((TString) r.get(0)).asBytes().getObject();
          }
        }
      }
    }
    AugmentSpec spec = AugmentSpec.training(28, 1);
    try (DecodePool decoder = new DecodePool(spec, pool, pool)) {
      float[] out = new float[n * spec.floatsPerImage()];
      feederPass(decoder, pngs, out, 4, 0);
      double[] t = feederPass(decoder, pngs, out, 20, 1);
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("input", n + " generated 28x28 grey PNGs -> inception crop + flip -> 28x28x1");
      m.put("images_per_second_per_core", n * 20 / t[1]);
      m.put("images_per_second", n * 20 / t[0]);
      return m;
    }
  }

  /** {@code n} JPEGs of textured colour gradients (smooth areas, edges and noise, like photos) via TF EncodeJpeg. */
  private static byte[][] generateJpegs(int n, int side, int quality) {
    byte[][] out = new byte[n][];
    SplittableRandom random = new SplittableRandom(42);
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TUint8> in = tf.placeholder(TUint8.class, Placeholder.shape(Shape.of(side, side, 3)));
      EncodeJpeg jpeg = tf.image.encodeJpeg(in, EncodeJpeg.quality((long) quality));
      try (Session s = new Session(g)) {
        for (int i = 0; i < n; i++) {
          byte[] px = new byte[side * side * 3];
          double[] f = new double[9];
          for (int k = 0; k < f.length; k++) {
            f[k] = 0.01 + 0.12 * random.nextDouble();
          }
          for (int y = 0; y < side; y++) {
            for (int x = 0; x < side; x++) {
              for (int c = 0; c < 3; c++) {
                double v = 128 + 60 * Math.sin(f[c] * x + f[c + 3] * y) + 40 * Math.cos(f[c + 6] * (x - y))
                    + ((x / 16 + y / 16) % 3 == 0 ? 25 : 0) + random.nextInt(33) - 16;
                px[(y * side + x) * 3 + c] = (byte) Math.max(0, Math.min(255, (int) v));
              }
            }
          }
          try (TUint8 t = TUint8.tensorOf(Shape.of(side, side, 3), DataBuffers.of(px, true, false));
               Result r = s.runner().feed(in, t).fetch(jpeg).run()) {
            out[i] = ((TString) r.get(0)).asBytes().getObject();
          }
        }
      }
    }
    return out;
  }

  private static double median(double[] x) {
    double[] s = x.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : 0.5 * (s[s.length / 2 - 1] + s[s.length / 2]);
  }
}
