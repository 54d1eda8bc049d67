package io.vitfleet.protocol.control;

/**
 * Where a member's data plane listens, and on which host. Every member (worker, shard, feeder) has exactly one and
 * announces it in its {@link Hello}; peers publish to it, and the frame header says what each tensor is. A peer on
 * the same host (equal {@code host}) publishes to {@code channel}, over shared memory; a peer on another host to
 * {@code udpChannel} (docs/cluster.md, "Hosts and transports"). The stream id is the same on both.
 *
 * @param host the member's host identity: members with equal identities share a media driver and reach each other
 *     over IPC; the hostname by default, one per simulated host under {@code vitfleet up --hosts K}
 * @param channel the host-local channel, {@code aeron:ipc?term-length=..|mtu=..}
 * @param udpChannel {@code aeron:udp?endpoint=address:port|term-length=..|mtu=..}, or null when the member takes
 *     nothing from other hosts (UDP not enabled)
 */
public record Endpoint(String memberId, String host, String channel, String udpChannel, int streamId) {
  /** The host identity of endpoints that name none: members of tests and one-host tools, all on one host. */
  public static final String LOCAL_HOST = "local";

  public Endpoint {
    Checks.named("memberId", memberId);
    Checks.named("host", host);
    Checks.named("channel", channel);
    if (!channel.startsWith("aeron:ipc")) {
      throw new IllegalArgumentException("the host-local channel of " + memberId + " must be aeron:ipc, got "
          + channel);
    }
    if (udpChannel != null && !udpChannel.startsWith("aeron:udp")) {
      throw new IllegalArgumentException("the UDP channel of " + memberId + " must be aeron:udp, got " + udpChannel);
    }
  }

  /** An IPC-only endpoint on {@link #LOCAL_HOST}: what members of one host that never meet another can use. */
  public Endpoint(String memberId, String channel, int streamId) {
    this(memberId, LOCAL_HOST, channel, null, streamId);
  }

  /** Whether peers on other hosts can reach this member. */
  public boolean acceptsOtherHosts() {
    return udpChannel != null;
  }
}
