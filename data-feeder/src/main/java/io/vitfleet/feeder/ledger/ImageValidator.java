package io.vitfleet.feeder.ledger;

import io.vitfleet.feeder.source.ImageFormat;

/**
 * Judges whether a sample's image bytes decode: the last check of the corrupt-sample rule, after the record's CRCs,
 * the Example's fields and the label. Injectable because how far to go is a trade-off: {@link #structural()} walks
 * the PNG chunks (checking their CRCs and inflating the pixel stream) or the JPEG segments, cheap and without
 * native code; {@link TfDecodeImageValidator} runs TensorFlow's decoder, exact but costing a decode.
 *
 * <p>Implementations must be thread-safe, deterministic (the same bytes always get the same answer, or replays would
 * differ) and must not throw for any input.
 */
@FunctionalInterface
public interface ImageValidator {
  /**
   * Why {@code image} cannot be decoded, or null if it can (as far as this validator can tell).
   *
   * @param format what the source says the bytes are; RAW pixels are checked for length by the caller
   */
  String problem(ImageFormat format, byte[] image);

  /** The default: PNG chunk CRCs and pixel stream, JPEG segment structure; see {@link StructuralImageValidator}. */
  static ImageValidator structural() {
    return StructuralImageValidator.INSTANCE;
  }

  /** Accepts every image: for sources whose images are known good (synthetic data). */
  static ImageValidator acceptAll() {
    return (format, image) -> null;
  }

  /** This check, then {@code next} if this one passes. */
  default ImageValidator andThen(ImageValidator next) {
    return (format, image) -> {
      String problem = problem(format, image);
      return problem != null ? problem : next.problem(format, image);
    };
  }
}
