package io.vitfleet.protocol.control;

/**
 * Where a member's data-plane subscription listens: an Aeron channel and stream id. Every member (worker, shard,
 * feeder) has exactly one; peers publish to it, and the frame header says what each tensor is.
 *
 * @param channel e.g. {@code aeron:ipc?term-length=8m} on one host, {@code aeron:udp?endpoint=host:port} between
 */
public record Endpoint(String memberId, String channel, int streamId) {
  public Endpoint {
    Checks.named("memberId", memberId);
    Checks.named("channel", channel);
  }
}
