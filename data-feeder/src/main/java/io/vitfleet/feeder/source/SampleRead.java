package io.vitfleet.feeder.source;

/**
 * One sample as a {@link SampleSource} read it: for a valid sample its label and image bytes; for an invalid one the
 * reason, and where: the file and the byte offset of the record (for synthetic data, the source's name and -1).
 *
 * @param index the sample's index in [0, size) of its source
 * @param status {@link SampleStatus#VALID} or why the sample is invalid
 * @param label the class in [0, classes), or -1 when invalid
 * @param image the encoded image (PNG, JPEG) or raw HWC pixels as {@code format} says; null when invalid. Owned by
 *     the caller: a source never reuses it
 * @param format how {@code image} is encoded; {@link ImageFormat#UNKNOWN} when invalid
 * @param file where the sample lives: a file path, or a name for sources without files
 * @param offset the byte offset of the sample's record in {@code file}, or -1 if unknown or not applicable
 * @param detail for an invalid sample, one sentence on what exactly is wrong; empty when valid
 */
public record SampleRead(long index, SampleStatus status, int label, byte[] image, ImageFormat format, String file,
    long offset, String detail) {

  /** A valid sample. */
  public static SampleRead valid(long index, int label, byte[] image, ImageFormat format, String file, long offset) {
    return new SampleRead(index, SampleStatus.VALID, label, image, format, file, offset, "");
  }

  /** An invalid sample: {@code status} must not be VALID. */
  public static SampleRead invalid(long index, SampleStatus status, String file, long offset, String detail) {
    if (status == SampleStatus.VALID) {
      throw new IllegalArgumentException("an invalid sample needs a reason other than VALID");
    }
    return new SampleRead(index, status, -1, null, ImageFormat.UNKNOWN, file, offset, detail);
  }

  public boolean isValid() {
    return status == SampleStatus.VALID;
  }

  /** The same read marked invalid for {@code status} (used when a later check, e.g. decoding, fails). */
  public SampleRead asInvalid(SampleStatus status, String detail) {
    return invalid(index, status, file, offset, detail);
  }

  /** "file at offset N" or just "file": where to look, for messages. */
  public String where() {
    return offset >= 0 ? file + " at offset " + offset : file;
  }

  @Override
  public String toString() {
    return "SampleRead[" + index + ", " + status + (isValid() ? ", label " + label + ", " + image.length + " bytes "
        + format.label() : ", " + where() + ": " + detail) + "]";
  }
}
