/**
 * The data feeder: turning a step number into its exact global batch.
 *
 * <p>Reading a data set ({@link io.vitfleet.feeder.IdxFile}, {@link io.vitfleet.feeder.FashionMnist} into an
 * {@link io.vitfleet.feeder.ImageDataset}), the order of each epoch ({@link io.vitfleet.feeder.EpochOrder}), the
 * units of work of the architecture ({@link io.vitfleet.feeder.BatchPlan}, {@link io.vitfleet.feeder.SampleSchedule})
 * and filling caller-owned buffers with normalised pixels ({@link io.vitfleet.feeder.Normalization},
 * {@link io.vitfleet.feeder.Batcher}, {@link io.vitfleet.feeder.MicrobatchSource}). Everything here is a pure
 * function of (data set, seed, step, microbatch, slot), so a restarted feeder needs nothing but the committed step.
 */
package io.vitfleet.feeder;
