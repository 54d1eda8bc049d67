package io.vitfleet.feeder.source;

/**
 * The outcome of reading one sample: {@link #VALID}, or the reason it is invalid. Everything but VALID is a data
 * problem that the corrupt-sample rule ({@link io.vitfleet.feeder.ledger.ValidSampleReader}) handles; none of them is
 * ever thrown.
 */
public enum SampleStatus {
  VALID("valid"),
  /** The shard file holding the sample does not exist or cannot be opened. */
  MISSING_SHARD("shard file missing or unopenable"),
  /** The file ends before the sample's record, or its framing broke earlier so the record cannot be located. */
  TRUNCATED("file truncated before the record"),
  /** The record's length header fails its CRC, or disagrees with the record's extent in the index. */
  BAD_RECORD_HEADER("record length header fails its CRC"),
  /** The record's data fails its CRC. */
  BAD_DATA_CRC("record data fails its CRC"),
  /** The record's data is not a parseable tf.train.Example. */
  BAD_EXAMPLE("record is not a tf.train.Example"),
  /** The Example lacks {@code image/encoded} (one bytes value) or {@code label} (one int64 value). */
  MISSING_FEATURE("Example lacks image/encoded or label"),
  /** The label is outside [0, classes). */
  LABEL_OUT_OF_RANGE("label out of range"),
  /** The image bytes cannot be decoded (judged by an {@link io.vitfleet.feeder.ledger.ImageValidator}). */
  UNDECODABLE_IMAGE("image cannot be decoded"),
  /** Reading the file failed with an I/O error. */
  IO_ERROR("I/O error reading the record");

  private final String description;

  SampleStatus(String description) {
    this.description = description;
  }

  /** A few words for messages and the sample ledger. */
  public String description() {
    return description;
  }
}
