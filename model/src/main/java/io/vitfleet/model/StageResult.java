package io.vitfleet.model;

/**
 * What one forward+backward of a stage yields (float32 training graph). Weight gradients are not here: they are added
 * into the caller's accumulator.
 *
 * @param loss       last stage: the microbatch's summed loss divided by the fed loss scale; otherwise NaN
 * @param output     non-last stage: the output activation {@code [b, tokens, width]} flat; otherwise null
 * @param inputGrad  non-first stage: the gradient wrt the input activation {@code [b, tokens, width]}; otherwise null
 * @param correct    last stage: examples whose argmax logit equals the label; otherwise -1
 */
public record StageResult(double loss, float[] output, float[] inputGrad, int correct) {
}
