package io.vitfleet.model;

import io.vitfleet.protocol.ParameterManifest;
import io.vitfleet.protocol.ParameterSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.math.Mean;
import org.tensorflow.op.train.BatchMatMul;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * big_vision's ViT as TensorFlow ops, from patch embedding to head and loss — the one file to read for what the model
 * computes ({@code spec/vit.md}). {@link StageGraph} wires these pieces into the graph of one pipeline stage.
 *
 * <p>Parameters come from one flat vector (the stage manifest's buffer), split in the graph into named tensors, so a
 * stage is fed with one copy and its weight gradient is fetched as one flat vector in manifest order.
 *
 * <p>The batch dimension is left dynamic ({@code -1} in every reshape), so the same code builds training graphs of a
 * fixed microbatch and inference graphs of any batch. Generic in the float type so that gradient checks can run the
 * identical model in float64.
 *
 * @param <T> TFloat32 for training, TFloat64 for finite-difference checks
 */
final class VisionTransformer<T extends TFloating> {
  /** flax's LayerNorm default epsilon. */
  static final double LAYER_NORM_EPSILON = 1e-6;
  /** sqrt(2 / pi), the constant of the tanh approximation of GELU (flax's {@code nn.gelu} default). */
  private static final double SQRT_2_OVER_PI = Math.sqrt(2.0 / Math.PI);

  private final Ops tf;
  private final ViTConfig c;
  private final Class<T> type;
  private final Map<String, Operand<T>> params = new HashMap<>();

  /**
   * @param tf       where to build
   * @param c        the model
   * @param type     the float type of every parameter and activation
   * @param manifest the parameters this graph holds (a stage manifest)
   * @param flat     the placeholder of the flat parameter vector, {@code [manifest.totalSize()]}
   */
  VisionTransformer(Ops tf, ViTConfig c, Class<T> type, ParameterManifest manifest, Placeholder<T> flat) {
    this.tf = tf;
    this.c = c;
    this.type = type;
    int n = manifest.count();
    int[] sizes = new int[n];
    for (int i = 0; i < n; i++) {
      sizes[i] = Math.toIntExact(manifest.get(i).size());
    }
    List<Operand<T>> pieces = new ArrayList<>();
    if (n == 1) {
      pieces.add(flat);
    } else {
      tf.withSubScope("params").splitV(flat, tf.constant(sizes), tf.constant(0), (long) n).forEach(pieces::add);
    }
    for (int i = 0; i < n; i++) {
      ParameterSpec s = manifest.get(i);
      params.put(s.name(), tf.withSubScope("params").reshape(pieces.get(i), tf.constant(s.shape())));
    }
  }

  /** One named parameter tensor, shaped as its manifest entry. */
  Operand<T> param(String name) {
    Operand<T> p = params.get(name);
    if (p == null) {
      throw new IllegalStateException("parameter " + name + " is not part of this stage's manifest");
    }
    return p;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Encoder input: patches -> embedding -> + position embedding (-> prepend [class] token)

  /** Images {@code [b, H, W, C]} (NHWC) to the encoder input {@code [b, tokens, width]}. */
  Operand<T> embed(Operand<T> images) {
    Ops s = tf.withSubScope("embedding");
    int p = c.patch();
    int side = c.image() / p;
    // Cut into patches, each flattened in (py, px, c) order: the row order of the conv kernel reshaped to 2-D.
    Operand<T> x = s.reshape(images, shape(-1, side, p, side, p, c.channels()));
    x = s.linalg.transpose(x, tf.constant(new int[] {0, 1, 3, 2, 4, 5}));
    x = s.reshape(x, shape(-1, c.patchDim()));
    Operand<T> kernel = s.reshape(param("embedding/kernel"), shape(c.patchDim(), c.width()));
    x = s.nn.biasAdd(s.linalg.matMul(x, kernel), param("embedding/bias"));
    x = s.reshape(x, shape(-1, c.patches(), c.width()));
    x = s.math.add(x, param("pos_embedding"));
    if (c.head() == HeadType.TOKEN) {
      Operand<T> cls = s.tile(param("cls"), batchMultiples(x));
      x = s.concat(List.of(cls, x), tf.constant(1));
    }
    return x;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Encoder blocks

  /** Encoder block {@code i}: x + MHSA(LN(x)), then + MLP(LN(x)). */
  Operand<T> block(int i, Operand<T> x) {
    String prefix = ViTParameters.block(i);
    Ops s = tf.withSubScope("encoder_block_" + i);
    Operand<T> y = layerNorm(s, prefix + "layer_norm_0/", x);
    x = s.math.add(x, attention(s, prefix + "attention/", y, y, c.tokens()));
    y = layerNorm(s, prefix + "layer_norm_1/", x);
    return s.math.add(x, mlp(s, prefix + "mlp/", y, c.tokens()));
  }

  /** The final LayerNorm of the encoder. */
  Operand<T> encoderNorm(Operand<T> x) {
    return layerNorm(tf.withSubScope("encoder_norm"), "encoder/encoder_norm/", x);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Pooling head, classifier, loss

  /** Encoder output {@code [b, tokens, width]} to the pooled vector ("pre_logits") {@code [b, width]}. */
  Operand<T> pool(Operand<T> x) {
    Ops s = tf.withSubScope("pool");
    return switch (c.head()) {
      case GAP -> s.math.mean(x, tf.constant(1));
      case TOKEN -> s.reshape(s.slice(x, tf.constant(new int[] {0, 0, 0}), tf.constant(new int[] {-1, 1, -1})),
          shape(-1, c.width()));
      case MAP -> {
        // The probe attends over the encoder output: no LayerNorm before, no residual around the attention.
        Operand<T> probe = s.tile(param("map_head/probe"), batchMultiples(x));
        Operand<T> y = attention(s, "map_head/attention/", probe, x, 1);
        y = s.math.add(y, mlp(s, "map_head/mlp/", layerNorm(s, "map_head/layer_norm/", y), 1));
        yield s.reshape(y, shape(-1, c.width()));
      }
    };
  }

  /** The classifier: pre_logits {@code [b, width]} to logits {@code [b, classes]}. */
  Operand<T> logits(Operand<T> preLogits) {
    Ops s = tf.withSubScope("head");
    return s.nn.biasAdd(s.linalg.matMul(preLogits, param("head/kernel")), param("head/bias"));
  }

  /** Loss of each example {@code [b]}, from logits and integer labels {@code [b]}. */
  Operand<T> perExampleLoss(Operand<T> logits, Operand<TInt32> labels) {
    Ops s = tf.withSubScope("loss");
    Operand<T> targets = s.oneHot(labels, tf.constant(c.classes()), scalar(1), scalar(0));
    return switch (c.loss()) {
      // -sum(onehot * log_softmax(x)), what SoftmaxCrossEntropyWithLogits computes. Written out because TF's C++
      // gradient of that fused op builds a float32 constant and fails in float64 graphs, and the sparse op has no
      // gradient at all.
      case SOFTMAX -> s.math.neg(s.reduceSum(s.math.mul(targets, s.nn.logSoftmax(logits)), tf.constant(1)));
      case SIGMOID -> {
        // log(1 + e^x) - x z, written as max(x, 0) + log1p(e^-|x|) - x z so that it neither overflows nor loses
        // precision for large |x|.
        Operand<T> softplus = s.math.add(s.nn.relu(logits), s.math.log1p(s.math.exp(s.math.neg(s.math.abs(logits)))));
        Operand<T> perClass = s.math.sub(softplus, s.math.mul(logits, targets));
        yield s.reduceSum(perClass, tf.constant(1));
      }
    };
  }

  /** Number of examples whose argmax logit is the label, as an int32 scalar. */
  Operand<TInt32> correct(Operand<T> logits, Operand<TInt32> labels) {
    Ops s = tf.withSubScope("accuracy");
    Operand<TInt32> predicted = s.math.argMax(logits, tf.constant(1), TInt32.class);
    Operand<TInt32> hits = s.dtypes.cast(s.math.equal(predicted, labels), TInt32.class);
    return s.reduceSum(hits, tf.constant(0));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Modules shared by blocks and the MAP head

  /** LayerNorm over the last axis with scale and bias (flax defaults). */
  private Operand<T> layerNorm(Ops s, String prefix, Operand<T> x) {
    Operand<TInt32> last = tf.constant(-1);
    Operand<T> mean = s.math.mean(x, last, Mean.keepDims(true));
    Operand<T> centred = s.math.sub(x, mean);
    Operand<T> variance = s.math.mean(s.math.square(centred), last, Mean.keepDims(true));
    Operand<T> normed = s.math.mul(centred, s.math.rsqrt(s.math.add(variance, scalar(LAYER_NORM_EPSILON))));
    return s.math.add(s.math.mul(normed, param(prefix + "scale")), param(prefix + "bias"));
  }

  /**
   * Multihead dot-product attention: queries from {@code inQ [b, tq, width]}, keys and values from
   * {@code inKv [b, tokens, width]}; softmax(q k^T / sqrt(headDim)) v, projected back to width.
   */
  private Operand<T> attention(Ops s, String prefix, Operand<T> inQ, Operand<T> inKv, int tq) {
    int heads = c.heads();
    int headDim = c.variant().headDim();
    int tk = c.tokens();
    Operand<T> q = heads(s, prefix + "query/", inQ, tq);
    Operand<T> k = heads(s, prefix + "key/", inKv, tk);
    Operand<T> v = heads(s, prefix + "value/", inKv, tk);
    q = s.math.mul(q, scalar(1.0 / Math.sqrt(headDim)));
    Operand<T> scores = s.train.batchMatMul(q, k, type, BatchMatMul.adjY(true));   // [b, heads, tq, tk]
    Operand<T> weights = s.nn.softmax(scores);
    Operand<T> o = s.train.batchMatMul(weights, v, type);                        // [b, heads, tq, headDim]
    o = s.linalg.transpose(o, tf.constant(new int[] {0, 2, 1, 3}));
    o = s.reshape(o, shape(-1, heads * headDim));
    Operand<T> kernel = s.reshape(param(prefix + "out/kernel"), shape(heads * headDim, c.width()));
    o = s.nn.biasAdd(s.linalg.matMul(o, kernel), param(prefix + "out/bias"));
    return s.reshape(o, shape(-1, tq, c.width()));
  }

  /** A DenseGeneral projection {@code [b, t, width] -> [b, heads, t, headDim]}. */
  private Operand<T> heads(Ops s, String prefix, Operand<T> x, int t) {
    int heads = c.heads();
    int headDim = c.variant().headDim();
    Operand<T> x2 = s.reshape(x, shape(-1, c.width()));
    Operand<T> kernel = s.reshape(param(prefix + "kernel"), shape(c.width(), heads * headDim));
    Operand<T> bias = s.reshape(param(prefix + "bias"), shape(heads * headDim));
    Operand<T> y = s.nn.biasAdd(s.linalg.matMul(x2, kernel), bias);
    y = s.reshape(y, shape(-1, t, heads, headDim));
    return s.linalg.transpose(y, tf.constant(new int[] {0, 2, 1, 3}));
  }

  /** Dense(mlp) -> GELU -> Dense(width) on {@code [b, t, width]}. */
  private Operand<T> mlp(Ops s, String prefix, Operand<T> x, int t) {
    Operand<T> h = s.reshape(x, shape(-1, c.width()));
    h = s.nn.biasAdd(s.linalg.matMul(h, param(prefix + "dense_0/kernel")), param(prefix + "dense_0/bias"));
    h = gelu(s, h);
    h = s.nn.biasAdd(s.linalg.matMul(h, param(prefix + "dense_1/kernel")), param(prefix + "dense_1/bias"));
    return s.reshape(h, shape(-1, t, c.width()));
  }

  /**
   * GELU, tanh approximation (flax's {@code nn.gelu} default): x * 0.5 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))),
   * computed as x * sigmoid(x * (a + b x^2)) with a = 2 sqrt(2/pi), b = 0.044715 a — the same function, since
   * 0.5 (1 + tanh(z)) = sigmoid(2 z), in six elementwise ops instead of nine (these run on the widest activations).
   */
  private Operand<T> gelu(Ops s, Operand<T> x) {
    double a = 2 * SQRT_2_OVER_PI;
    Operand<T> z = s.math.mul(x, s.math.add(scalar(a), s.math.mul(scalar(0.044715 * a), s.math.square(x))));
    return s.math.mul(x, s.math.sigmoid(z));
  }

  // ---------------------------------------------------------------------------------------------------------------

  private Operand<T> scalar(double v) {
    return tf.constant(type, v);
  }

  private Operand<TInt64> shape(long... dims) {
    return tf.constant(dims);
  }

  /** Tile multiples {@code [b, 1, 1]}, b taken from {@code x}'s runtime batch: tiles a {@code [1, 1, width]} tensor. */
  private Operand<TInt32> batchMultiples(Operand<T> x) {
    Operand<TInt32> batch = tf.slice(tf.shape(x), tf.constant(new int[] {0}), tf.constant(new int[] {1}));
    return tf.concat(List.of(batch, tf.constant(new int[] {1, 1})), tf.constant(0));
  }
}
