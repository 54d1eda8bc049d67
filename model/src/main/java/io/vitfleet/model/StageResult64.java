package io.vitfleet.model;

/**
 * {@link StageResult} of a float64 graph ({@link StageGraph#training64}), used by finite-difference gradient checks.
 *
 * @param loss      last stage: summed loss divided by the loss scale; otherwise NaN
 * @param output    non-last stage: the output activation; otherwise null
 * @param inputGrad non-first stage: the gradient wrt the input activation; otherwise null
 * @param correct   last stage: examples whose argmax logit equals the label; otherwise -1
 */
public record StageResult64(double loss, double[] output, double[] inputGrad, int correct) {
}
