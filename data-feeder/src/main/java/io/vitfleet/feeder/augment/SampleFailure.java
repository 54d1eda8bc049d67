package io.vitfleet.feeder.augment;

/**
 * A sample of a microbatch that could not be decoded: its slot (left zero-filled), its data set index and why.
 * Returned by {@link DecodePool#augment} so the caller's corrupt-data rule decides what replaces it.
 */
public record SampleFailure(int slot, long index, String reason) {}
