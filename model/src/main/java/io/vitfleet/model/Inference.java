package io.vitfleet.model;

/**
 * The forward pass of {@code n} images through the whole model.
 *
 * @param n         number of images
 * @param logits    {@code [n, classes]} row-major
 * @param preLogits the pooled vectors {@code [n, width]} row-major (the features of few-shot evaluation)
 */
public record Inference(int n, float[] logits, float[] preLogits) {
}
