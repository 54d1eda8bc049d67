package io.vitfleet.model;

import io.vitfleet.protocol.ParameterSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a ViT costs, layer by layer: parameters, forward FLOPs and activation memory per image. The planner cuts the
 * model into pipeline stages with it, the benches compare measured throughput against it, and
 * {@code vitfleet model info} prints it.
 *
 * <p>How things are counted:
 * <ul>
 *   <li>Parameters are summed from {@link ViTParameters#manifest}, so names and shapes have one source of truth.</li>
 *   <li>FLOPs are 2 x the multiply-adds of every matrix product at the config's resolution: the patch embedding, the
 *       query/key/value and output projections, the attention scores QK^T and the mixing AV, the MLPs, the MAP head
 *       and the classifier. Elementwise work (LayerNorm, GELU, softmax, bias and residual adds, the position
 *       embedding) is <em>not</em> counted: at 224px it adds roughly 1% for the smallest variants and 0.15% for G/14.
 *       A backward pass costs about twice the forward.</li>
 *   <li>Activations are fp32. {@code activationBytesPerImage} is a layer's output; {@code savedBytesPerImage}
 *       estimates what autodiff keeps for the backward pass without recomputation (every matmul's inputs, the
 *       softmax output, LayerNorm and GELU inputs; LayerNorm's per-token statistics are ignored).</li>
 * </ul>
 *
 * <p>The paper's Table 2 counts parameters and GFLOPs without the pooling head and the classifier:
 * {@link #encoderParams} and {@link #encoderFlops}.
 */
public final class CostModel {
  /** Bytes of one fp32 value: parameters and activations are fp32. */
  public static final int FLOAT_BYTES = 4;

  private CostModel() {
  }

  /**
   * Forward FLOPs of one encoder block by matrix product, per image: each is 2 x the multiply-adds given here.
   *
   * @param qkvProjection   query, key and value projections: 3 x tokens x width x width
   * @param attentionScores QK^T over all heads: tokens x tokens x width
   * @param attentionMix    softmax(QK^T) V over all heads: tokens x tokens x width
   * @param outProjection   the output projection: tokens x width x width
   * @param mlp             both MLP dense layers: 2 x tokens x width x mlp
   */
  public record BlockFlops(long qkvProjection, long attentionScores, long attentionMix, long outProjection,
                           long mlp) {
    public long total() {
      return qkvProjection + attentionScores + attentionMix + outProjection + mlp;
    }
  }

  /** Every layer of the model in order: embedding, the blocks, encoder_norm, the pooling head, the classifier. */
  public static List<LayerCost> layers(ViTConfig c) {
    Map<String, Long> params = paramsByLayer(c);
    long t = c.tokens();
    long w = c.width();
    List<LayerCost> out = new ArrayList<>(c.depth() + 4);
    out.add(new LayerCost("embedding", LayerCost.Kind.EMBEDDING, params.get("embedding"),
        2L * c.patches() * c.patchDim() * w, FLOAT_BYTES * t * w, FLOAT_BYTES * (long) c.patches() * c.patchDim()));
    long blockFlops = blockFlops(c);
    long blockSaved = blockSavedBytesPerImage(c);
    for (int i = 0; i < c.depth(); i++) {
      String name = blockName(i);
      out.add(new LayerCost(name, LayerCost.Kind.BLOCK, params.get(name), blockFlops, FLOAT_BYTES * t * w,
          blockSaved));
    }
    out.add(new LayerCost("encoder/encoder_norm", LayerCost.Kind.ENCODER_NORM, params.get("encoder/encoder_norm"),
        0, FLOAT_BYTES * t * w, FLOAT_BYTES * t * w));
    out.add(pooling(c, params));
    out.add(new LayerCost("head", LayerCost.Kind.CLASSIFIER, params.get("head"), 2L * w * c.classes(),
        FLOAT_BYTES * (long) c.classes(), FLOAT_BYTES * w));
    return List.copyOf(out);
  }

  /**
   * The layers of a pipeline stage holding blocks {@code [firstBlock, endBlock)}: with the embedding when it starts
   * at block 0, with encoder_norm, pooling and classifier when it ends at the last block — the same split as
   * {@link ViTParameters#stageManifest}.
   */
  public static List<LayerCost> stageLayers(ViTConfig c, int firstBlock, int endBlock) {
    if (firstBlock < 0 || endBlock > c.depth() || firstBlock >= endBlock) {
      throw new IllegalArgumentException("stage block range [" + firstBlock + ", " + endBlock + ") is not within "
          + "the model's " + c.depth() + " blocks or is empty");
    }
    List<LayerCost> all = layers(c);
    // all = [embedding, block_0 .. block_{depth-1}, encoder_norm, pooling, head]
    int from = firstBlock == 0 ? 0 : 1 + firstBlock;
    int to = endBlock == c.depth() ? all.size() : 1 + endBlock;
    return all.subList(from, to);
  }

  /** Forward FLOPs per image of the whole model, heads included. */
  public static long forwardFlops(ViTConfig c) {
    long sum = 0;
    for (LayerCost l : layers(c)) {
      sum += l.forwardFlops();
    }
    return sum;
  }

  /** Forward FLOPs per image as the paper's Table 2 counts them: embedding and blocks, no pooling head or classifier. */
  public static long encoderFlops(ViTConfig c) {
    return layers(c).stream()
        .filter(CostModel::isEncoder)
        .mapToLong(LayerCost::forwardFlops)
        .sum();
  }

  /** Forward FLOPs per image of one encoder block (all blocks cost the same). */
  public static long blockFlops(ViTConfig c) {
    return blockFlopsBreakdown(c).total();
  }

  /** {@link #blockFlops} by matrix product. */
  public static BlockFlops blockFlopsBreakdown(ViTConfig c) {
    long t = c.tokens();
    long w = c.width();
    return new BlockFlops(2 * t * w * 3 * w, 2 * t * t * w, 2 * t * t * w, 2 * t * w * w, 2 * 2 * t * w * c.mlp());
  }

  /** Parameters of one encoder block. */
  public static long blockParams(ViTConfig c) {
    return paramsByLayer(c).get(blockName(0));
  }

  /**
   * Parameters as the paper's Table 2 counts them: embedding, position embedding, blocks and encoder_norm — no
   * pooling head, no classifier.
   */
  public static long encoderParams(ViTConfig c) {
    return layers(c).stream().filter(CostModel::isEncoder).mapToLong(LayerCost::params).sum();
  }

  /** All parameters, pooling head and classifier included. */
  public static long totalParams(ViTConfig c) {
    return ViTParameters.manifest(c).totalSize();
  }

  /** fp32 bytes per image that one encoder block keeps from forward to backward (see the class comment). */
  public static long blockSavedBytesPerImage(ViTConfig c) {
    long t = c.tokens();
    long w = c.width();
    // LN0 in, LN0 out, q, k, v, attention output, LN1 in, LN1 out: 8 x (t x w); GELU in and out: 2 x (t x mlp);
    // softmax output: heads x t x t.
    return FLOAT_BYTES * (8 * t * w + 2 * t * c.mlp() + c.heads() * t * t);
  }

  /** The layer a parameter belongs to: {@code embedding}, {@code encoder/block_<i>}, ..., {@code head}. */
  static String layerOf(String parameterName) {
    if (parameterName.startsWith("encoder/")) {
      int slash = parameterName.indexOf('/', "encoder/".length());
      return slash < 0 ? parameterName : parameterName.substring(0, slash);
    }
    if (parameterName.startsWith("map_head/")) {
      return "map_head";
    }
    if (parameterName.startsWith("head/")) {
      return "head";
    }
    // embedding/kernel, embedding/bias, pos_embedding and the token head's cls: all enter before block 0.
    return "embedding";
  }

  private static String blockName(int i) {
    String prefix = ViTParameters.block(i);
    return prefix.substring(0, prefix.length() - 1);
  }

  private static boolean isEncoder(LayerCost l) {
    return l.kind() == LayerCost.Kind.EMBEDDING || l.kind() == LayerCost.Kind.BLOCK
        || l.kind() == LayerCost.Kind.ENCODER_NORM;
  }

  private static Map<String, Long> paramsByLayer(ViTConfig c) {
    Map<String, Long> sums = new LinkedHashMap<>();
    for (ParameterSpec s : ViTParameters.manifest(c).specs()) {
      sums.merge(layerOf(s.name()), s.size(), Long::sum);
    }
    return sums;
  }

  private static LayerCost pooling(ViTConfig c, Map<String, Long> params) {
    long w = c.width();
    return switch (c.head()) {
      case MAP -> mapHead(c, params.get("map_head"));
      // A mean over tokens (elementwise, not counted), or the [class] token's row: no matmul, nothing saved.
      case GAP -> new LayerCost("gap_pool", LayerCost.Kind.POOLING, 0, 0, FLOAT_BYTES * w, 0);
      case TOKEN -> new LayerCost("token_pool", LayerCost.Kind.POOLING, 0, 0, FLOAT_BYTES * w, 0);
    };
  }

  private static LayerCost mapHead(ViTConfig c, long params) {
    long t = c.tokens();
    long w = c.width();
    // One probe token attends over t encoder tokens: the query side costs one token, keys and values t tokens.
    long flops = 2 * w * w              // query projection of the probe
        + 2 * t * w * 2 * w             // key and value projections
        + 2 * t * w + 2 * t * w         // scores and mixing
        + 2 * w * w                     // output projection
        + 2 * 2 * w * c.mlp();          // MLP
    // Encoder output (the K/V input), k, v, the softmax output; then one-token tensors: q, the attention output,
    // LN in, LN out (the MLP input), GELU in and out.
    long saved = 3 * t * w + c.heads() * t + 4 * w + 2L * c.mlp();
    return new LayerCost("map_head", LayerCost.Kind.POOLING, params, flops, FLOAT_BYTES * w, FLOAT_BYTES * saved);
  }
}
