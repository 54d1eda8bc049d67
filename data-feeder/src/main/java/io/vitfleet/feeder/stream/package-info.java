/**
 * Streaming augmented microbatches, and the feeder process of the resume proof.
 *
 * <p>{@link io.vitfleet.feeder.stream.AugmentedMicrobatches} turns (step, microbatch) into decoded, augmented images
 * and labels from an {@link io.vitfleet.feeder.stream.EncodedDataset};
 * {@link io.vitfleet.feeder.stream.StepFile} is an append-only file of delivered steps sealed by fsynced commit
 * markers; {@link io.vitfleet.feeder.stream.FeederMain} streams steps into one and, restarted after a kill, continues
 * after the last committed step. {@link io.vitfleet.feeder.stream.GeneratedImages} is a file-free data set for both.
 */
package io.vitfleet.feeder.stream;
