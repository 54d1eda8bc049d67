package io.vitfleet.model;

import io.vitfleet.protocol.ParameterManifest;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.ndarray.buffer.FloatDataBuffer;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.DeviceStepStats;
import org.tensorflow.proto.NodeExecStats;
import org.tensorflow.proto.RunMetadata;
import org.tensorflow.proto.RunOptions;
import org.tensorflow.proto.GraphOptions;
import org.tensorflow.proto.RewriterConfig;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TFloating;

/**
 * The TensorFlow graph and session of one pipeline stage — encoder blocks {@code [firstBlock, endBlock)}, plus the
 * embeddings on the first stage and the final norm, pooling head, classifier and loss on the last — with forward and
 * backward in one session run ({@link #forwardBackward}), or, on a non-last stage of a pipeline, split in two runs
 * whose backward is fed the forward tensors it reads ({@link #forwardStashed}, {@link #backward}).
 *
 * <p>Feeds: the stage's parameters as one flat vector in manifest order; the input (images {@code [b, H, W, C]} on the
 * first stage, an activation {@code [b, tokens, width]} otherwise); labels {@code [b]} and the loss scale on the last
 * stage, the gradient wrt the output activation on the others. Fetches: the output activation or the loss, the flat
 * weight gradient (manifest order) and the input gradient (non-first stages).
 *
 * <p>The graph is built once and its session reused for every microbatch. Methods are synchronized: one chunk buffer
 * per graph carries the fetched gradient into the caller's accumulator.
 *
 * <p>Threads: TensorFlow's intra-op pool is process-wide and sized by the first session created in the process (later
 * sessions' {@code threads} do not resize it), so every StageGraph of one process should be built with the same
 * {@code threads}.
 *
 * <p>Determinism: a run is a pure function of its feeds for a given graph, thread count and oneDNN setting
 * ({@code TF_ENABLE_ONEDNN_OPTS}, which changes results and must be the same on every host), and a stage's gradients
 * are bitwise those of the whole model (see {@link #sessionConfig}).
 */
public final class StageGraph implements AutoCloseable {

  /**
   * Elements copied from the fetched gradient per step of the accumulation: large enough for bulk copies, small
   * enough that a stage of a billion parameters needs no second gradient-sized buffer.
   */
  private static final int GRADIENT_CHUNK = 1 << 18;

  private enum Mode { TRAINING, INFERENCE }

  private final ViTConfig config;
  private final int firstBlock;
  private final int endBlock;
  private final int microbatch;
  private final Mode mode;
  private final Class<? extends TFloating> type;
  private final ParameterManifest manifest;
  private final int paramCount;
  private final Graph graph;
  private final Session session;

  private final Placeholder<? extends TFloating> paramsIn;
  private final Placeholder<? extends TFloating> input;
  private final Placeholder<TInt32> labels;
  private final Placeholder<? extends TFloating> lossScale;
  private final Placeholder<? extends TFloating> outputGrad;
  /** Last stage: the scaled loss sum (training) or logits; otherwise the output activation. */
  private final Output<? extends TFloating> output;
  private final Output<? extends TFloating> logits;
  private final Output<? extends TFloating> preLogits;
  private final Output<TInt32> correct;
  private final Output<?> paramGrad;
  private final Output<?> inputGrad;
  /**
   * Non-last training stage: the forward tensors that depend on the input and that the gradient ops consume, in graph
   * order, excluding the input placeholder itself — what {@link #forwardStashed} keeps so that {@link #backward} need
   * not recompute the forward.
   */
  private final List<Output<?>> stashed;
  /** Whether the gradient ops read the input placeholder itself (then {@link #backward} feeds it again). */
  private final boolean backwardReadsInput;
  /** Names of the forward ops downstream of the input (training graphs), which a stashed backward must not run. */
  private final Set<String> inputDependentOps;

  /** Receives the fetched weight gradient a chunk at a time before it is added into the caller's accumulator. */
  private final float[] chunk = new float[GRADIENT_CHUNK];

  /** Training graph for blocks [firstBlock, endBlock) with a fixed microbatch size and TF intra/inter-op threads. */
  public static StageGraph training(ViTConfig c, int firstBlock, int endBlock, int microbatch, int threads) {
    return new StageGraph(c, firstBlock, endBlock, microbatch, threads, Mode.TRAINING, TFloat32.class);
  }

  /** Same in float64, for finite-difference gradient checks: use the {@code double[]} methods. */
  public static StageGraph training64(ViTConfig c, int firstBlock, int endBlock, int microbatch, int threads) {
    return new StageGraph(c, firstBlock, endBlock, microbatch, threads, Mode.TRAINING, TFloat64.class);
  }

  /** Forward-only whole-model graph for evaluation; any batch size. */
  public static StageGraph inference(ViTConfig c, int threads) {
    return new StageGraph(c, 0, c.depth(), -1, threads, Mode.INFERENCE, TFloat32.class);
  }

  private <T extends TFloating> StageGraph(ViTConfig c, int firstBlock, int endBlock, int microbatch, int threads,
                                          Mode mode, Class<T> type) {
    if (threads <= 0) {
      throw new IllegalArgumentException("TensorFlow thread count must be positive, got " + threads);
    }
    if (mode == Mode.TRAINING && microbatch <= 0) {
      throw new IllegalArgumentException("microbatch size must be positive, got " + microbatch);
    }
    this.config = c;
    this.firstBlock = firstBlock;
    this.endBlock = endBlock;
    this.microbatch = microbatch;
    this.mode = mode;
    this.type = type;
    this.manifest = ViTParameters.stageManifest(c, firstBlock, endBlock);
    this.paramCount = Math.toIntExact(manifest.totalSize());
    this.graph = new Graph();
    boolean ok = false;
    try {
      Ops tf = Ops.create(graph);
      long b = mode == Mode.TRAINING ? microbatch : Shape.UNKNOWN_SIZE;
      Placeholder<T> params = tf.withName("params").placeholder(type, Placeholder.shape(Shape.of(paramCount)));
      Placeholder<T> in = isFirst()
          ? tf.withName("images").placeholder(type, Placeholder.shape(Shape.of(b, c.image(), c.image(), c.channels())))
          : tf.withName("activation").placeholder(type, Placeholder.shape(Shape.of(b, c.tokens(), c.width())));
      VisionTransformer<T> vit = new VisionTransformer<>(tf, c, type, manifest, params);

      Operand<T> x = isFirst() ? vit.embed(in) : in;
      for (int i = firstBlock; i < endBlock; i++) {
        x = vit.block(i, x);
      }
      Placeholder<TInt32> lab = null;
      Placeholder<T> scale = null;
      Placeholder<T> outGrad = null;
      Operand<T> out;
      Operand<T> logitsOp = null;
      Operand<T> preLogitsOp = null;
      Operand<TInt32> correctOp = null;
      if (isLast()) {
        preLogitsOp = tf.withName("pre_logits").identity(vit.pool(vit.encoderNorm(x)));
        logitsOp = tf.withName("logits").identity(vit.logits(preLogitsOp));
        out = logitsOp;
        if (mode == Mode.TRAINING) {
          lab = tf.withName("labels").placeholder(TInt32.class, Placeholder.shape(Shape.of(b)));
          scale = tf.withName("loss_scale").placeholder(type, Placeholder.shape(Shape.scalar()));
          Operand<T> sum = tf.reduceSum(vit.perExampleLoss(logitsOp, lab), tf.constant(0));
          out = tf.withName("loss").math.div(sum, scale);
          correctOp = vit.correct(logitsOp, lab);
        }
      } else {
        out = tf.withName("output").identity(x);
      }
      Output<?> pg = null;
      Output<?> ig = null;
      Set<String> dependent = Set.of();
      if (mode == Mode.TRAINING) {
        Output<?>[] wrt = isFirst() ? new Output<?>[] {params.asOutput()}
            : new Output<?>[] {params.asOutput(), in.asOutput()};
        Output<?>[] dy = null;
        if (!isLast()) {
          outGrad = tf.withName("output_grad").placeholder(type, Placeholder.shape(Shape.of(b, c.tokens(), c.width())));
          dy = new Output<?>[] {outGrad.asOutput()};
        }
        Set<String> forwardOps = opNames(graph);
        Output<?>[] grads = graph.addGradients("gradients", new Output<?>[] {out.asOutput()}, wrt, dy);
        pg = grads[0];
        ig = isFirst() ? null : grads[1];
        if (!isLast()) {
          dependent = inputDependent(forwardOps, (GraphOperation) in.op());
          Map<String, Output<?>> consumed = forwardTensorsOfBackward(graph, forwardOps, dependent);
          backwardReadsInput = consumed.remove(in.op().name() + ":0") != null;
          stashed = List.copyOf(consumed.values());
        } else {
          backwardReadsInput = false;
          stashed = List.of();
        }
      } else {
        backwardReadsInput = false;
        stashed = List.of();
      }
      this.paramsIn = params;
      this.input = in;
      this.labels = lab;
      this.lossScale = scale;
      this.outputGrad = outGrad;
      this.output = out.asOutput();
      this.logits = logitsOp == null ? null : logitsOp.asOutput();
      this.preLogits = preLogitsOp == null ? null : preLogitsOp.asOutput();
      this.correct = correctOp == null ? null : correctOp.asOutput();
      this.paramGrad = pg;
      this.inputGrad = ig;
      this.inputDependentOps = Set.copyOf(dependent);
      this.session = new Session(graph, sessionConfig(threads));
      ok = true;
    } finally {
      if (!ok) {
        graph.close();
      }
    }
  }

  private static Set<String> opNames(Graph g) {
    Set<String> names = new HashSet<>();
    for (java.util.Iterator<GraphOperation> it = g.operations(); it.hasNext(); ) {
      names.add(it.next().name());
    }
    return names;
  }

  /** The forward ops downstream of {@code input}, itself included. */
  private static Set<String> inputDependent(Set<String> forwardOps, GraphOperation input) {
    Set<String> dependent = new HashSet<>();
    ArrayDeque<GraphOperation> todo = new ArrayDeque<>();
    todo.add(input);
    dependent.add(input.name());
    while (!todo.isEmpty()) {
      for (GraphOperation c : todo.poll().consumers()) {
        if (forwardOps.contains(c.name()) && dependent.add(c.name())) {
          todo.add(c);
        }
      }
    }
    return dependent;
  }

  /**
   * The outputs of forward ops downstream of the input (the input placeholder included) that an op added by
   * {@code addGradients} (any op not in {@code forwardOps}) reads, keyed {@code op:index}, in graph order. Feeding
   * them to a backward run replaces every input-dependent forward op; only parameter slices and constants, which
   * need no input, are recomputed. A gradient op with a control input on such a forward op would force that op to
   * run again, so that is refused here rather than silently recomputing.
   */
  private static Map<String, Output<?>> forwardTensorsOfBackward(Graph g, Set<String> forwardOps,
                                                                  Set<String> dependent) {
    Map<String, Output<?>> consumed = new LinkedHashMap<>();
    for (java.util.Iterator<GraphOperation> it = g.operations(); it.hasNext(); ) {
      GraphOperation op = it.next();
      if (forwardOps.contains(op.name())) {
        continue;
      }
      for (GraphOperation c : op.controlInputs()) {
        if (dependent.contains(c.name())) {
          throw new IllegalStateException("gradient op " + op.name() + " has a control input on forward op "
              + c.name() + "; a stashed backward would recompute it");
        }
      }
      for (int i = 0; i < op.numInputs(); i++) {
        Output<?> o = op.input(i);
        String producer = o.op().name();
        if (dependent.contains(producer)) {
          consumed.putIfAbsent(producer + ":" + o.index(), o);
        }
      }
    }
    return consumed;
  }

  /**
   * Session options of every stage graph: {@code threads} intra- and inter-op threads, and Grappler (TensorFlow's
   * graph rewriter) off. Grappler rewrites a graph depending on what a run fetches — it fuses ops whose intermediates
   * only the backward pass needs — so with it a forward-only run and a forward+backward run of one stage compute
   * bitwise-different activations, and a pipeline split no longer reproduces the whole model bit for bit. Without it
   * the graph runs as built; on Ti/4 the throughput difference was within measurement noise.
   */
  public static ConfigProto sessionConfig(int threads) {
    return ConfigProto.newBuilder()
        .setIntraOpParallelismThreads(threads)
        .setInterOpParallelismThreads(threads)
        .setGraphOptions(GraphOptions.newBuilder()
            .setRewriteOptions(RewriterConfig.newBuilder().setDisableMetaOptimizer(true)))
        .build();
  }

  /** The stage manifest: names, shapes and order of this stage's parameters and of its gradient. */
  public ParameterManifest manifest() {
    return manifest;
  }

  public ViTConfig config() {
    return config;
  }

  public int firstBlock() {
    return firstBlock;
  }

  public int endBlock() {
    return endBlock;
  }

  /** The fixed microbatch of a training graph, or -1 for an inference graph. */
  public int microbatch() {
    return microbatch;
  }

  /** Holds the embeddings; its input is images. */
  public boolean isFirst() {
    return firstBlock == 0;
  }

  /** Holds the final norm, the heads and the loss; its extra input is labels. */
  public boolean isLast() {
    return endBlock == config.depth();
  }

  /** Elements of this stage's input for {@code n} examples. */
  public int inputSize(int n) {
    return n * (isFirst() ? config.image() * config.image() * config.channels() : config.tokens() * config.width());
  }

  /** Elements of a non-last stage's output activation for {@code n} examples. */
  public int activationSize(int n) {
    return n * config.tokens() * config.width();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // float32

  /**
   * One forward+backward of a microbatch.
   *
   * @param params          the stage's flat parameters, manifest order
   * @param in              images {@code b*H*W*C} (NHWC) on the first stage, else the activation {@code b*tokens*width}
   * @param labelsIn        labels {@code [b]} (last stage; ignored otherwise)
   * @param outGrad         gradient wrt the output activation (non-last stages; ignored on the last)
   * @param scale           the loss is sum over examples / scale (last stage; ignored otherwise)
   * @param gradAccumulator weight gradients are added into it, element by element in index order
   */
  public synchronized StageResult forwardBackward(float[] params, float[] in, int[] labelsIn, float[] outGrad,
                                                  float scale, float[] gradAccumulator) {
    requireTraining(TFloat32.class);
    checkLength("parameters", params.length, paramCount);
    checkLength("gradient accumulator", gradAccumulator.length, paramCount);
    checkLength("input", in.length, inputSize(microbatch));
    try (TFloat32 p = floats(params, Shape.of(paramCount));
         TFloat32 x = floats(in, input.shape());
         TInt32 l = isLast() ? labelTensor(labelsIn) : null;
         TFloat32 s = isLast() ? TFloat32.scalarOf(scale) : null;
         TFloat32 dy = isLast() ? null : floats(checked("output gradient", outGrad, activationSize(microbatch)),
             outputGrad.shape())) {
      Session.Runner r = session.runner().feed(paramsIn, p).feed(input, x);
      if (isLast()) {
        r.feed(labels, l).feed(lossScale, s).fetch(correct);
      } else {
        r.feed(outputGrad, dy);
      }
      r.fetch(output).fetch(paramGrad);
      if (!isFirst()) {
        r.fetch(inputGrad);
      }
      try (Result res = r.run()) {
        int correctCount = isLast() ? ((TInt32) res.get(0)).getInt() : -1;
        int o = isLast() ? 1 : 0;
        double loss = isLast() ? ((TFloat32) res.get(o)).getFloat() : Double.NaN;
        float[] act = isLast() ? null : readFloats(res.get(o), new float[activationSize(microbatch)]);
        addInto(res.get(o + 1), gradAccumulator);
        float[] dx = isFirst() ? null : readFloats(res.get(o + 2), new float[inputSize(microbatch)]);
        return new StageResult(loss, act, dx, correctCount);
      }
    }
  }

  /**
   * Forward only: the output activation (non-last stage) or the logits {@code [b, classes]} (last stage) of a
   * microbatch, keeping nothing for a backward ({@link #forwardStashed} is the pipeline's forward).
   */
  public synchronized float[] forward(float[] params, float[] in) {
    requireTraining(TFloat32.class);
    checkLength("parameters", params.length, paramCount);
    checkLength("input", in.length, inputSize(microbatch));
    try (TFloat32 p = floats(params, Shape.of(paramCount));
         TFloat32 x = floats(in, input.shape());
         Result res = session.runner().feed(paramsIn, p).feed(input, x).fetch(isLast() ? logits : output).run()) {
      int n = isLast() ? microbatch * config.classes() : activationSize(microbatch);
      return readFloats(res.get(0), new float[n]);
    }
  }

  /**
   * The forward half of a non-last stage's training step: the output activation of a microbatch, and a {@link Stash}
   * of the forward tensors its {@link #backward} reads, so the backward does not recompute the forward (one forward
   * instead of two per microbatch on every stage but the last). The stash holds native TensorFlow memory — about the
   * stage's activations for one microbatch — until it is closed; {@link #backward} does not close it.
   */
  public synchronized Stash forwardStashed(float[] params, float[] in) {
    requireTraining(TFloat32.class);
    if (isLast()) {
      throw new IllegalStateException(this + " is a last stage: use forwardBackward");
    }
    checkLength("parameters", params.length, paramCount);
    checkLength("input", in.length, inputSize(microbatch));
    TFloat32 x = floats(in, input.shape());
    boolean ok = false;
    try (TFloat32 p = floats(params, Shape.of(paramCount))) {
      Session.Runner r = session.runner().feed(paramsIn, p).feed(input, x).fetch(output);
      for (Output<?> o : stashed) {
        r.fetch(o);
      }
      Result res = r.run();
      try {
        float[] act = readFloats(res.get(0), new float[activationSize(microbatch)]);
        ok = true;
        return new Stash(this, x, res, act);
      } finally {
        if (!ok) {
          res.close();
        }
      }
    } finally {
      if (!ok) {
        x.close();
      }
    }
  }

  /**
   * The backward half: weight gradients of the stashed microbatch added into {@code gradAccumulator} (index order)
   * and the input gradient (non-first stages), from the gradient wrt the output activation. Bitwise what
   * {@link #forwardBackward} yields for the same params, input and output gradient.
   */
  public synchronized StageResult backward(Stash stash, float[] params, float[] outGrad, float[] gradAccumulator) {
    requireTraining(TFloat32.class);
    if (stash.graph != this || stash.closed) {
      throw new IllegalArgumentException("the stash is " + (stash.closed ? "closed" : "of another stage graph"));
    }
    checkLength("parameters", params.length, paramCount);
    checkLength("gradient accumulator", gradAccumulator.length, paramCount);
    try (TFloat32 p = floats(params, Shape.of(paramCount));
         TFloat32 dy = floats(checked("output gradient", outGrad, activationSize(microbatch)), outputGrad.shape())) {
      try (Result res = backwardRunner(stash, p, dy).run()) {
        addInto(res.get(0), gradAccumulator);
        float[] dx = isFirst() ? null : readFloats(res.get(1), new float[inputSize(microbatch)]);
        return new StageResult(Double.NaN, null, dx, -1);
      }
    }
  }

  /** A backward run: parameters, output gradient and the stash fed; the weight gradient (and input gradient) fetched. */
  private Session.Runner backwardRunner(Stash stash, TFloat32 p, TFloat32 dy) {
    Session.Runner r = session.runner().feed(paramsIn, p).feed(outputGrad, dy);
    if (backwardReadsInput) {
      r.feed(input, stash.input);
    }
    for (int i = 0; i < stashed.size(); i++) {
      r.feed(stashed.get(i), stash.forward.get(i + 1));
    }
    r.fetch(paramGrad);
    if (!isFirst()) {
      r.fetch(inputGrad);
    }
    return r;
  }

  /** Names of the forward ops that depend on the stage's input (training graphs; the input placeholder included). */
  Set<String> inputDependentOps() {
    return inputDependentOps;
  }

  /**
   * {@link #backward} traced: the names of the graph nodes TensorFlow ran (from the run's step statistics), for tests
   * that check a stashed backward recomputes no forward op. The gradient is discarded.
   */
  synchronized Set<String> opsRunByBackward(Stash stash, float[] params, float[] outGrad) {
    Set<String> ran = new HashSet<>();
    try (TFloat32 p = floats(params, Shape.of(paramCount));
         TFloat32 dy = floats(outGrad, outputGrad.shape())) {
      Session.Runner r = backwardRunner(stash, p, dy)
          .setOptions(RunOptions.newBuilder().setTraceLevel(RunOptions.TraceLevel.FULL_TRACE).build());
      try (Result res = r.runAndFetchMetadata()) {
        RunMetadata meta = res.getMetadata().orElseThrow(() -> new IllegalStateException("no run metadata"));
        for (DeviceStepStats d : meta.getStepStats().getDevStatsList()) {
          for (NodeExecStats n : d.getNodeStatsList()) {
            ran.add(n.getNodeName());
          }
        }
      }
    }
    return ran;
  }

  /** Forward tensors a non-last training stage keeps per microbatch between its forward and its backward. */
  public int stashedTensorCount() {
    return stashed.size() + (backwardReadsInput ? 1 : 0);
  }

  /**
   * What {@link #forwardStashed} computed for one microbatch: its output activation and the forward tensors its
   * backward reads (native memory, released by {@link #close}).
   */
  public static final class Stash implements AutoCloseable {
    private final StageGraph graph;
    private final TFloat32 input;
    private final Result forward;
    private final float[] output;
    private boolean closed;

    private Stash(StageGraph graph, TFloat32 input, Result forward, float[] output) {
      this.graph = graph;
      this.input = input;
      this.forward = forward;
      this.output = output;
    }

    /** The output activation {@code [b, tokens, width]}, flat. */
    public float[] output() {
      return output;
    }

    @Override
    public void close() {
      synchronized (graph) {
        if (!closed) {
          closed = true;
          forward.close();
          input.close();
        }
      }
    }
  }

  /** Inference: logits {@code [n*classes]} and pre_logits {@code [n*width]} of {@code n} images. */
  public synchronized Inference infer(float[] params, float[] images, int n) {
    if (mode != Mode.INFERENCE) {
      throw new IllegalStateException("infer needs a graph built with StageGraph.inference");
    }
    checkLength("parameters", params.length, paramCount);
    checkLength("images", images.length, inputSize(n));
    try (TFloat32 p = floats(params, Shape.of(paramCount));
         TFloat32 x = floats(images, Shape.of(n, config.image(), config.image(), config.channels()));
         Result res = session.runner().feed(paramsIn, p).feed(input, x).fetch(logits).fetch(preLogits).run()) {
      return new Inference(n, readFloats(res.get(0), new float[n * config.classes()]),
          readFloats(res.get(1), new float[n * config.width()]));
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // float64 (gradient checks)

  /** {@link #forwardBackward(float[], float[], int[], float[], float, float[])} of a {@link #training64} graph. */
  public synchronized StageResult64 forwardBackward(double[] params, double[] in, int[] labelsIn, double[] outGrad,
                                                    double scale, double[] gradAccumulator) {
    requireTraining(TFloat64.class);
    checkLength("parameters", params.length, paramCount);
    checkLength("gradient accumulator", gradAccumulator.length, paramCount);
    checkLength("input", in.length, inputSize(microbatch));
    try (TFloat64 p = doubles(params, Shape.of(paramCount));
         TFloat64 x = doubles(in, input.shape());
         TInt32 l = isLast() ? labelTensor(labelsIn) : null;
         TFloat64 s = isLast() ? TFloat64.scalarOf(scale) : null;
         TFloat64 dy = isLast() ? null : doubles(checked("output gradient", outGrad, activationSize(microbatch)),
             outputGrad.shape())) {
      Session.Runner r = session.runner().feed(paramsIn, p).feed(input, x);
      if (isLast()) {
        r.feed(labels, l).feed(lossScale, s).fetch(correct);
      } else {
        r.feed(outputGrad, dy);
      }
      r.fetch(output).fetch(paramGrad);
      if (!isFirst()) {
        r.fetch(inputGrad);
      }
      try (Result res = r.run()) {
        int correctCount = isLast() ? ((TInt32) res.get(0)).getInt() : -1;
        int o = isLast() ? 1 : 0;
        double loss = isLast() ? ((TFloat64) res.get(o)).getDouble() : Double.NaN;
        double[] act = isLast() ? null : readDoubles(res.get(o), new double[activationSize(microbatch)]);
        addInto(res.get(o + 1), gradAccumulator);
        double[] dx = isFirst() ? null : readDoubles(res.get(o + 2), new double[inputSize(microbatch)]);
        return new StageResult64(loss, act, dx, correctCount);
      }
    }
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }

  @Override
  public String toString() {
    return "StageGraph[" + config.name() + " blocks " + firstBlock + ".." + endBlock + " " + mode.name().toLowerCase(java.util.Locale.ROOT)
        + (mode == Mode.TRAINING ? " microbatch " + microbatch : "") + " " + type.getSimpleName() + "]";
  }

  // ---------------------------------------------------------------------------------------------------------------

  private void requireTraining(Class<? extends TFloating> t) {
    if (mode != Mode.TRAINING) {
      throw new IllegalStateException("forward/backward needs a training graph; " + this + " is for inference");
    }
    if (type != t) {
      throw new IllegalStateException(this + " computes in " + type.getSimpleName() + "; call the "
          + (type == TFloat64.class ? "double[]" : "float[]") + " overload");
    }
  }

  private TInt32 labelTensor(int[] labelsIn) {
    checkLength("labels", labelsIn.length, microbatch);
    for (int i = 0; i < labelsIn.length; i++) {
      if (labelsIn[i] < 0 || labelsIn[i] >= config.classes()) {
        throw new IllegalArgumentException("label " + labelsIn[i] + " of example " + i + " is outside [0, "
            + config.classes() + ") classes of " + config.name());
      }
    }
    return TInt32.tensorOf(Shape.of(labelsIn.length), DataBuffers.of(labelsIn, true, false));
  }

  private static float[] checked(String what, float[] a, int expected) {
    if (a == null) {
      throw new IllegalArgumentException(what + " is required for a non-last stage");
    }
    checkLength(what, a.length, expected);
    return a;
  }

  private static double[] checked(String what, double[] a, int expected) {
    if (a == null) {
      throw new IllegalArgumentException(what + " is required for a non-last stage");
    }
    checkLength(what, a.length, expected);
    return a;
  }

  private static void checkLength(String what, long actual, long expected) {
    if (actual != expected) {
      throw new IllegalArgumentException(what + " has " + actual + " elements; this stage expects " + expected);
    }
  }

  private static TFloat32 floats(float[] a, Shape shape) {
    return TFloat32.tensorOf(shape, DataBuffers.of(a, true, false));
  }

  private static TFloat64 doubles(double[] a, Shape shape) {
    return TFloat64.tensorOf(shape, DataBuffers.of(a, true, false));
  }

  /** acc[i] += g[i] in index order, g being the fetched flat weight gradient. */
  private void addInto(Tensor g, float[] acc) {
    checkLength("fetched gradient", g.shape().size(), acc.length);
    FloatDataBuffer src = g.asRawTensor().data().asFloats();
    for (int off = 0; off < acc.length; off += chunk.length) {
      int n = Math.min(chunk.length, acc.length - off);
      src.offset(off).read(chunk, 0, n);
      for (int i = 0; i < n; i++) {
        acc[off + i] += chunk[i];
      }
    }
  }

  /** The float64 {@link #addInto(Tensor, float[])}; gradient checks are small, so one copy. */
  private static void addInto(Tensor g, double[] acc) {
    double[] all = readDoubles(g, new double[acc.length]);
    for (int i = 0; i < acc.length; i++) {
      acc[i] += all[i];
    }
  }

  private static float[] readFloats(Tensor t, float[] dst) {
    checkLength("fetched tensor", t.shape().size(), dst.length);
    t.asRawTensor().data().asFloats().read(dst);
    return dst;
  }

  private static double[] readDoubles(Tensor t, double[] dst) {
    checkLength("fetched tensor", t.shape().size(), dst.length);
    t.asRawTensor().data().asDoubles().read(dst);
    return dst;
  }
}
