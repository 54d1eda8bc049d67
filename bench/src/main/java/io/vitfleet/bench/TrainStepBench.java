package io.vitfleet.bench;

import io.vitfleet.model.CostModel;
import io.vitfleet.model.HeadType;
import io.vitfleet.model.LossType;
import io.vitfleet.model.StageGraph;
import io.vitfleet.model.Variant;
import io.vitfleet.model.ViTConfig;
import io.vitfleet.model.ViTParameters;
import io.vitfleet.ops.JsonOutput;
import io.vitfleet.ops.UserError;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.linalg.MatMul;
import org.tensorflow.types.TFloat32;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code vitfleet bench train-step}: images per second of one whole-model forward+backward ({@link StageGraph}), as
 * achieved GFLOP/s beside the GFLOP/s of a large float32 matmul in the same TensorFlow with the same threads — the
 * ratio says how much of the machine the ViT graph uses.
 */
@Command(name = "train-step", mixinStandardHelpOptions = true,
    description = {"Times forward+backward of a whole ViT on one microbatch (random images and labels) and compares "
        + "its GFLOP/s with a large matmul in the same TensorFlow and thread count.",
        "Training FLOPs per image are 3 x the forward FLOPs of the cost model (matrix products only)."})
final class TrainStepBench implements Callable<Integer> {

  @Option(names = "--variant", paramLabel = "NAME/PATCH", defaultValue = "Ti/4",
      description = "Model, e.g. Ti/4, s/16 (default: ${DEFAULT-VALUE}).")
  String variant;

  @Option(names = "--patch", paramLabel = "P", description = "Patch size; overrides the one in --variant.")
  Integer patch;

  @Option(names = "--width", paramLabel = "W", description = "Override the variant's width.")
  Integer width;

  @Option(names = "--depth", paramLabel = "D", description = "Override the variant's depth.")
  Integer depth;

  @Option(names = "--mlp", paramLabel = "M", description = "Override the variant's MLP size.")
  Integer mlp;

  @Option(names = "--heads", paramLabel = "H", description = "Override the variant's head count.")
  Integer heads;

  @Option(names = "--image", paramLabel = "S", defaultValue = "28",
      description = "Image side (default: ${DEFAULT-VALUE}).")
  int image;

  @Option(names = "--channels", paramLabel = "N", defaultValue = "1",
      description = "Image channels (default: ${DEFAULT-VALUE}).")
  int channels;

  @Option(names = "--classes", paramLabel = "C", defaultValue = "10",
      description = "Classes (default: ${DEFAULT-VALUE}).")
  int classes;

  @Option(names = "--head", paramLabel = "map|gap|token", defaultValue = "map",
      description = "Pooling head (default: ${DEFAULT-VALUE}).")
  String head;

  @Option(names = "--batch", paramLabel = "B", defaultValue = "128",
      description = "Images per forward+backward, one microbatch (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--threads", paramLabel = "T", defaultValue = "2",
      description = "TensorFlow intra- and inter-op threads (default: ${DEFAULT-VALUE}).")
  int threads;

  @Option(names = "--warmup", paramLabel = "N", defaultValue = "2",
      description = "Untimed steps first (default: ${DEFAULT-VALUE}).")
  int warmup;

  @Option(names = "--steps", paramLabel = "N", defaultValue = "5",
      description = "Timed steps (default: ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--matmul", paramLabel = "N", defaultValue = "2048",
      description = "Side of the reference NxN by NxN float32 matmul (default: ${DEFAULT-VALUE}).")
  int matmul;

  @Option(names = "--json", paramLabel = "FILE", description = "Also write the result as JSON to FILE.")
  Path json;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (batch <= 0 || threads <= 0 || steps <= 0 || warmup < 0 || matmul <= 0) {
      throw new UserError("--batch, --threads, --steps and --matmul must be positive and --warmup non-negative");
    }
    ViTConfig c = config();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("benchmark", "train-step");
    out.put("model", c.name());
    out.put("width", c.width());
    out.put("depth", c.depth());
    out.put("mlp", c.mlp());
    out.put("heads", c.heads());
    out.put("patch", c.patch());
    out.put("image", c.image());
    out.put("channels", c.channels());
    out.put("classes", c.classes());
    out.put("head", c.head().id());
    out.put("tokens", c.tokens());
    out.put("batch", batch);
    out.put("threads", threads);
    out.put("steps", steps);
    out.put("parameters", ViTParameters.manifest(c).totalSize());

    double trainFlopsPerImage = 3.0 * CostModel.forwardFlops(c);
    double seconds = timeTrainSteps(c);
    double imagesPerSecond = batch * (double) steps / seconds;
    double achieved = trainFlopsPerImage * imagesPerSecond / 1e9;
    double reference = referenceGflops();
    out.put("seconds_per_step", seconds / steps);
    out.put("training_gflops_per_image", trainFlopsPerImage / 1e9);
    out.put("images_per_second", imagesPerSecond);
    out.put("achieved_gflops", achieved);
    out.put("reference", matmul + "x" + matmul + "x" + matmul + " float32 matmul");
    out.put("reference_gflops", reference);
    out.put("ratio", achieved / reference);

    spec.commandLine().getOut().println(JsonOutput.mapper().writeValueAsString(out));
    spec.commandLine().getOut().flush();
    if (json != null) {
      JsonOutput.write(json, out);
    }
    return 0;
  }

  private ViTConfig config() {
    try {
      ViTConfig named = ViTConfig.of(variant, patch, image, channels, classes, HeadType.parse(head), LossType.SOFTMAX);
      if (width == null && depth == null && mlp == null && heads == null) {
        return named;
      }
      Variant v = named.variant();
      Variant custom = new Variant("custom", width != null ? width : v.width(), depth != null ? depth : v.depth(),
          mlp != null ? mlp : v.mlp(), heads != null ? heads : v.heads());
      return new ViTConfig(custom, named.patch(), image, channels, classes, named.head(), named.loss());
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage());
    }
  }

  /** Seconds for {@link #steps} forward+backward runs after {@link #warmup} untimed ones. */
  private double timeTrainSteps(ViTConfig c) {
    SplittableRandom rnd = new SplittableRandom(1);
    try (StageGraph g = StageGraph.training(c, 0, c.depth(), batch, threads)) {
      float[] params = ViTParameters.initialise(c, g.manifest(), 1);
      float[] grads = new float[params.length];
      float[] images = new float[g.inputSize(batch)];
      for (int i = 0; i < images.length; i++) {
        images[i] = (float) rnd.nextDouble();
      }
      int[] labels = new int[batch];
      for (int i = 0; i < batch; i++) {
        labels[i] = rnd.nextInt(c.classes());
      }
      for (int i = 0; i < warmup; i++) {
        g.forwardBackward(params, images, labels, null, batch, grads);
      }
      long t0 = System.nanoTime();
      for (int i = 0; i < steps; i++) {
        g.forwardBackward(params, images, labels, null, batch, grads);
      }
      return (System.nanoTime() - t0) / 1e9;
    }
  }

  /**
   * GFLOP/s of an N x N x N float32 matmul, best of a few runs, with the training session's settings. It runs after
   * the training graph, in the thread pool that graph's session sized (TensorFlow's intra-op pool is process-wide).
   */
  private double referenceGflops() {
    int n = matmul;
    SplittableRandom rnd = new SplittableRandom(2);
    float[] a = new float[n * n];
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) rnd.nextDouble();
    }
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(n, n)));
      Placeholder<TFloat32> y = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(n, n)));
      MatMul<TFloat32> product = tf.linalg.matMul(x, y);
      try (Session s = new Session(graph, StageGraph.sessionConfig(threads));
           TFloat32 ta = TFloat32.tensorOf(Shape.of(n, n), DataBuffers.of(a, true, false));
           TFloat32 tb = TFloat32.tensorOf(Shape.of(n, n), DataBuffers.of(a, true, false))) {
        double best = Double.MAX_VALUE;
        for (int i = 0; i < 4; i++) {
          long t0 = System.nanoTime();
          Result r = s.runner().feed(x, ta).feed(y, tb).fetch(product).run();
          best = Math.min(best, (System.nanoTime() - t0) / 1e9);
          r.close();
        }
        return 2.0 * n * n * n / best / 1e9;
      }
    }
  }
}
