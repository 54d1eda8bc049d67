package io.vitfleet.model;

/**
 * What one layer of a ViT costs, per image: the unit the planner packs into pipeline stages. See {@link CostModel}
 * for how each number is counted.
 *
 * @param name                     {@code embedding}, {@code encoder/block_<i>}, {@code encoder/encoder_norm}, the
 *                                 pooling layer ({@code map_head}, {@code gap_pool} or {@code token_pool}) or
 *                                 {@code head} (the classifier); the parameter-name prefix where the layer has one
 * @param kind                     what sort of layer it is
 * @param params                   trainable parameters (elements)
 * @param forwardFlops             forward FLOPs per image: 2 x the multiply-adds of its matrix products
 * @param activationBytesPerImage  its fp32 output per image: what the next layer (or the next stage) receives
 * @param savedBytesPerImage       fp32 tensors it keeps per image from forward to backward, without recomputation
 */
public record LayerCost(String name, Kind kind, long params, long forwardFlops, long activationBytesPerImage,
                        long savedBytesPerImage) {

  /** The sorts of layer, in the order they appear in the model. */
  public enum Kind {
    /** Patch embedding and position embedding (and the [class] token of the token head). */
    EMBEDDING,
    /** One pre-LayerNorm encoder block. */
    BLOCK,
    /** The final LayerNorm. */
    ENCODER_NORM,
    /** The pooling head: MAP, GAP or the [class] token's output. */
    POOLING,
    /** The classifier {@code head}. */
    CLASSIFIER
  }
}
