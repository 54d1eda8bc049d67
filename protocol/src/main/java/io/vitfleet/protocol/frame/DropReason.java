package io.vitfleet.protocol.frame;

/**
 * Why a received frame was dropped instead of applied. Each reason has its own counter in {@link DropCounters}, so
 * a metric says what went wrong (a flaky NIC shows as BAD_CRC, a lagging worker as STALE_PLAN).
 */
public enum DropReason {
  /** Too short for a header, wrong magic or version, unknown kind or dtype, rank above 8, lengths that disagree. */
  MALFORMED("malformed"),
  /** The CRC32C over header and payload does not match: corrupted in flight or in memory. */
  BAD_CRC("bad_crc"),
  /** The job fingerprint is not one this receiver serves (a process of another job on the same channel). */
  UNKNOWN_JOB("unknown_job"),
  /** Sent under an older plan than the receiver's: a leftover of an aborted step. */
  STALE_PLAN("stale_plan"),
  /** Sent under a newer plan than the receiver has been told of; the sender resends once both agree. */
  FUTURE_PLAN("future_plan"),
  /** Chunk index outside [0, chunk count), or the payload does not fit where the index says it goes. */
  CHUNK_OUT_OF_RANGE("chunk_out_of_range"),
  /** Dtype, shape, size, chunk count or stride differ from the earlier chunks of the same tensor. */
  INCONSISTENT_CHUNK("inconsistent_chunk"),
  /** A chunk already received for this tensor. */
  DUPLICATE_CHUNK("duplicate_chunk"),
  /** The tensor is larger than the receiver accepts (a setting): refused before allocating for it. */
  TOO_LARGE("too_large"),
  /** Every reassembly slot holds an unfinished tensor: the receiver is behind or senders leak tensors. */
  NO_FREE_SLOT("no_free_slot");

  private final String metricName;

  DropReason(String metricName) {
    this.metricName = metricName;
  }

  /** Name for metrics and JSON: lower snake case. */
  public String metricName() {
    return metricName;
  }
}
