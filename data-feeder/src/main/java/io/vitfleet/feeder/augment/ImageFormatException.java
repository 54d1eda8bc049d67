package io.vitfleet.feeder.augment;

/**
 * An encoded image the feeder cannot decode: not a JPEG or PNG, a damaged header, or data TensorFlow's decoder
 * rejects. The decode pool reports it per slot ({@link SampleFailure}) and never lets it stop a microbatch: what to
 * substitute is the corrupt-data rule's decision, not the decoder's.
 */
public final class ImageFormatException extends IllegalArgumentException {
  public ImageFormatException(String message) {
    super(message);
  }

  public ImageFormatException(String message, Throwable cause) {
    super(message, cause);
  }
}
