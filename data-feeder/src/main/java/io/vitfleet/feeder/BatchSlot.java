package io.vitfleet.feeder;

/**
 * Where a sample lands in the units of work: slot {@code slot} of microbatch {@code microbatch} of step
 * {@code step} ({@link SampleSchedule#locate}).
 */
public record BatchSlot(long step, int microbatch, int slot) {}
