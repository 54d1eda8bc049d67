package io.vitfleet.model;

import io.vitfleet.protocol.ParameterManifest;
import io.vitfleet.protocol.ParameterSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The parameters of a ViT: their names (one hierarchical scheme), shapes, order, and big_vision's initialisation.
 *
 * <p>Order (which is also the order of the flat parameter buffer): {@code embedding/kernel}, {@code embedding/bias},
 * {@code pos_embedding}, {@code cls} (token head only), the encoder blocks in order, {@code encoder/encoder_norm},
 * the MAP head (map head only), {@code head/kernel}, {@code head/bias}.
 *
 * <p>Shapes follow big_vision: the patch embedding is a convolution kernel {@code [p, p, c, width]}; attention
 * projections are DenseGeneral kernels {@code [width, heads, headDim]} and {@code [heads, headDim, width]}.
 */
public final class ViTParameters {
  private ViTParameters() {
  }

  /** Prefix of every parameter of encoder block {@code i}. */
  public static String block(int i) {
    return "encoder/block_" + i + "/";
  }

  /** The full manifest of a model. */
  public static ParameterManifest manifest(ViTConfig c) {
    List<ParameterSpec> p = new ArrayList<>();
    addEmbedding(c, p);
    for (int i = 0; i < c.depth(); i++) {
      addBlock(c, block(i), p);
    }
    addFinal(c, p);
    return new ParameterManifest(p);
  }

  /**
   * The manifest of a stage: blocks {@code [firstBlock, endBlock)}, plus the embeddings when {@code firstBlock == 0}
   * and the final norm and heads when {@code endBlock == depth}. Its order is the full manifest's order.
   */
  public static ParameterManifest stageManifest(ViTConfig c, int firstBlock, int endBlock) {
    if (firstBlock < 0 || endBlock > c.depth() || firstBlock >= endBlock) {
      throw new IllegalArgumentException("stage block range [" + firstBlock + ", " + endBlock + ") is not within "
          + "the model's " + c.depth() + " blocks or is empty");
    }
    List<ParameterSpec> p = new ArrayList<>();
    if (firstBlock == 0) {
      addEmbedding(c, p);
    }
    for (int i = firstBlock; i < endBlock; i++) {
      addBlock(c, block(i), p);
    }
    if (endBlock == c.depth()) {
      addFinal(c, p);
    }
    return new ParameterManifest(p);
  }

  private static void addEmbedding(ViTConfig c, List<ParameterSpec> p) {
    p.add(new ParameterSpec("embedding/kernel", new int[] {c.patch(), c.patch(), c.channels(), c.width()}));
    p.add(new ParameterSpec("embedding/bias", new int[] {c.width()}));
    p.add(new ParameterSpec("pos_embedding", new int[] {1, c.patches(), c.width()}));
    if (c.head() == HeadType.TOKEN) {
      p.add(new ParameterSpec("cls", new int[] {1, 1, c.width()}));
    }
  }

  private static void addBlock(ViTConfig c, String prefix, List<ParameterSpec> p) {
    addLayerNorm(c, prefix + "layer_norm_0/", p);
    addAttention(c, prefix + "attention/", p);
    addLayerNorm(c, prefix + "layer_norm_1/", p);
    addMlp(c, prefix + "mlp/", p);
  }

  private static void addFinal(ViTConfig c, List<ParameterSpec> p) {
    addLayerNorm(c, "encoder/encoder_norm/", p);
    if (c.head() == HeadType.MAP) {
      p.add(new ParameterSpec("map_head/probe", new int[] {1, 1, c.width()}));
      addAttention(c, "map_head/attention/", p);
      addLayerNorm(c, "map_head/layer_norm/", p);
      addMlp(c, "map_head/mlp/", p);
    }
    p.add(new ParameterSpec("head/kernel", new int[] {c.width(), c.classes()}));
    p.add(new ParameterSpec("head/bias", new int[] {c.classes()}));
  }

  private static void addLayerNorm(ViTConfig c, String prefix, List<ParameterSpec> p) {
    p.add(new ParameterSpec(prefix + "scale", new int[] {c.width()}));
    p.add(new ParameterSpec(prefix + "bias", new int[] {c.width()}));
  }

  private static void addAttention(ViTConfig c, String prefix, List<ParameterSpec> p) {
    for (String proj : new String[] {"query", "key", "value"}) {
      p.add(new ParameterSpec(prefix + proj + "/kernel", new int[] {c.width(), c.heads(), c.variant().headDim()}));
      p.add(new ParameterSpec(prefix + proj + "/bias", new int[] {c.heads(), c.variant().headDim()}));
    }
    p.add(new ParameterSpec(prefix + "out/kernel", new int[] {c.heads(), c.variant().headDim(), c.width()}));
    p.add(new ParameterSpec(prefix + "out/bias", new int[] {c.width()}));
  }

  private static void addMlp(ViTConfig c, String prefix, List<ParameterSpec> p) {
    p.add(new ParameterSpec(prefix + "dense_0/kernel", new int[] {c.width(), c.mlp()}));
    p.add(new ParameterSpec(prefix + "dense_0/bias", new int[] {c.mlp()}));
    p.add(new ParameterSpec(prefix + "dense_1/kernel", new int[] {c.mlp(), c.width()}));
    p.add(new ParameterSpec(prefix + "dense_1/bias", new int[] {c.width()}));
  }

  /**
   * big_vision's initialisation of every parameter of {@code manifest}, into a new flat buffer. Each tensor draws
   * from its own stream keyed by (seed, name), so a stage initialises its parameters exactly as the whole model does.
   *
   * <ul>
   *   <li>{@code embedding/kernel}: LeCun normal (truncated at 2 std), fan-in p*p*c; its bias zeros</li>
   *   <li>{@code pos_embedding}: N(0, 1/sqrt(width))</li>
   *   <li>{@code cls}: zeros</li>
   *   <li>attention and MLP kernels, MAP probe: Xavier uniform (DenseGeneral kernels over their flattened 2-D
   *       shape)</li>
   *   <li>MLP biases: N(0, 1e-6); attention biases zeros</li>
   *   <li>LayerNorm: scale ones, bias zeros</li>
   *   <li>{@code head/kernel}: zeros; {@code head/bias}: zeros, or -10 with the sigmoid loss</li>
   * </ul>
   */
  public static float[] initialise(ViTConfig c, ParameterManifest manifest, long seed) {
    long total = manifest.totalSize();
    if (total > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("model has " + total + " parameters, more than one Java array holds; "
          + "initialise it stage by stage");
    }
    float[] out = new float[(int) total];
    for (int i = 0; i < manifest.count(); i++) {
      ParameterSpec s = manifest.get(i);
      initialise(c, s, seed, out, (int) manifest.offset(i));
    }
    return out;
  }

  /** Initialises one tensor into {@code out[offset ..]}. */
  public static void initialise(ViTConfig c, ParameterSpec s, long seed, float[] out, int offset) {
    String n = s.name();
    int[] shape = s.shape();
    int size = (int) s.size();
    SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L ^ n.hashCode() * 0xC2B2AE3D27D4EB4FL);
    if (n.equals("embedding/kernel")) {
      int fanIn = shape[0] * shape[1] * shape[2];
      // Truncated normal on [-2, 2] has std 0.87962566; divide to keep the requested variance (as jax does).
      double std = Math.sqrt(1.0 / fanIn) / 0.87962566103423978;
      for (int k = 0; k < size; k++) {
        out[offset + k] = (float) (std * truncatedNormal(rnd));
      }
    } else if (n.equals("pos_embedding")) {
      double std = 1.0 / Math.sqrt(c.width());
      for (int k = 0; k < size; k++) {
        out[offset + k] = (float) (std * gaussian(rnd));
      }
    } else if (n.equals("head/kernel") || n.equals("cls")) {
      fill(out, offset, size, 0f);
    } else if (n.equals("head/bias")) {
      fill(out, offset, size, c.loss() == LossType.SIGMOID ? -10f : 0f);
    } else if (n.endsWith("/scale")) {
      fill(out, offset, size, 1f);
    } else if (n.contains("/mlp/") && n.endsWith("/bias")) {
      for (int k = 0; k < size; k++) {
        out[offset + k] = (float) (1e-6 * gaussian(rnd));
      }
    } else if (n.endsWith("/bias")) {
      fill(out, offset, size, 0f);
    } else if (n.endsWith("/kernel") || n.equals("map_head/probe")) {
      long[] fans = fans(n, shape);
      double limit = Math.sqrt(6.0 / (fans[0] + fans[1]));
      for (int k = 0; k < size; k++) {
        out[offset + k] = (float) ((rnd.nextDouble() * 2 - 1) * limit);
      }
    } else {
      throw new IllegalStateException("no initialiser for parameter " + n);
    }
  }

  /** (fan-in, fan-out) as flax computes them for this kernel. */
  private static long[] fans(String name, int[] shape) {
    if (name.endsWith("attention/out/kernel") || name.contains("/out/kernel")) {
      return new long[] {(long) shape[0] * shape[1], shape[2]};
    }
    if (shape.length == 3 && !name.equals("map_head/probe")) {
      // DenseGeneral [in, heads, headDim]: fan-in the input, fan-out heads*headDim.
      return new long[] {shape[0], (long) shape[1] * shape[2]};
    }
    // 2-D kernels, and the probe [1, 1, width] (receptive field 1: fan-in shape[-2], fan-out shape[-1]).
    long receptive = 1;
    for (int i = 0; i < shape.length - 2; i++) {
      receptive *= shape[i];
    }
    return new long[] {shape[shape.length - 2] * receptive, shape[shape.length - 1] * receptive};
  }

  private static void fill(float[] out, int offset, int size, float v) {
    for (int k = 0; k < size; k++) {
      out[offset + k] = v;
    }
  }

  private static double gaussian(SplittableRandom rnd) {
    // Box-Muller on SplittableRandom, so values depend on nothing but the seed.
    double u1 = rnd.nextDouble();
    double u2 = rnd.nextDouble();
    return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
  }

  private static double truncatedNormal(SplittableRandom rnd) {
    while (true) {
      double g = gaussian(rnd);
      if (g >= -2 && g <= 2) {
        return g;
      }
    }
  }
}
