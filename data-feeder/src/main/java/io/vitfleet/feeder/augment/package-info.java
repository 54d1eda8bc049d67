/**
 * Decode and augment with TensorFlow ops, byte-identical on replay.
 *
 * <p>An {@link io.vitfleet.feeder.augment.AugmentSpec} says what to do (big_vision's inception crop, flip,
 * value range [-1, 1]); {@link io.vitfleet.feeder.augment.CropWindow} draws each sample's window and flip in Java
 * from its {@link io.vitfleet.feeder.augment.AugmentKey} of (seed, epoch, index); an
 * {@link io.vitfleet.feeder.augment.Augmenter} (one graph and session) decodes a JPEG or PNG and applies them; a
 * {@link io.vitfleet.feeder.augment.DecodePool} runs several augmenters over the slots of a microbatch and reports
 * undecodable samples as {@link io.vitfleet.feeder.augment.SampleFailure}s instead of failing.
 */
package io.vitfleet.feeder.augment;
