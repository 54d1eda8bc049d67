/**
 * Synthetic data of any size: {@link io.vitfleet.feeder.synthetic.SyntheticDataset} computes sample i (image and
 * label) from i, so billion-sample behaviour is testable without storage; {@link
 * io.vitfleet.feeder.synthetic.PngEncoder} gives its PNGs the same bytes on every JVM.
 */
package io.vitfleet.feeder.synthetic;
