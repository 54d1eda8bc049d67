package io.vitfleet.protocol.link;

import io.vitfleet.protocol.control.Endpoint;
import java.util.Locale;

/**
 * How a tensor travels from one member to another: over shared memory when both are on one host, over UDP when
 * they are not (architecture.md, "Two planes"). The choice is a pure function of the sender's host identity and the
 * receiver's {@link Endpoint}, so every sender decides alike and a test can check it without a media driver.
 */
public enum Transport {
  /** Aeron IPC through the host's media driver: no network, no MTU limit worth the name. */
  IPC,
  /** Aeron unicast UDP to the receiver's announced address and port. */
  UDP;

  /** Thrown when a receiver cannot be reached from the sender's host: it is elsewhere and takes no UDP. */
  public static final class UnreachableException extends RuntimeException {
    UnreachableException(String message) {
      super(message);
    }
  }

  /**
   * The transport a member on host {@code fromHost} uses to send to {@code peer}: IPC when the host identities are
   * equal, otherwise UDP.
   *
   * @throws UnreachableException when the peer is on another host and announced no UDP channel
   */
  public static Transport between(String fromHost, Endpoint peer) {
    if (peer.host().equals(fromHost)) {
      return IPC;
    }
    if (!peer.acceptsOtherHosts()) {
      throw new UnreachableException(peer.memberId() + " is on host " + peer.host() + " and takes no UDP, so "
          + "nothing on host " + fromHost + " can reach it; enable UDP on every member (vitfleet.cluster.udp"
          + ".enabled = true) or run them on one host");
    }
    return UDP;
  }

  /** The channel of {@code peer} that this transport publishes to. */
  public String channelOf(Endpoint peer) {
    return this == IPC ? peer.channel() : peer.udpChannel();
  }

  /** The transport of an Aeron channel URI ({@code aeron:ipc...} or {@code aeron:udp...}). */
  public static Transport ofChannel(String channel) {
    if (channel.startsWith("aeron:ipc")) {
      return IPC;
    }
    if (channel.startsWith("aeron:udp")) {
      return UDP;
    }
    throw new IllegalArgumentException("not an Aeron IPC or UDP channel: " + channel);
  }

  /** The name metrics and status use: {@code ipc} or {@code udp}. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
