package io.vitfleet.protocol.link;

import io.aeron.ChannelUriStringBuilder;

/**
 * Aeron channel URIs of the data plane, built in one place so every link states its term length and MTU. The
 * largest message Aeron accepts is term length / 8, and the largest claimable (zero-copy) message is MTU - 32:
 * {@link TensorPublisher} sizes its chunks from the publication, so these two settings decide the chunk size.
 */
public final class LinkChannel {
  /**
   * Term length of a data-plane log: 16 MiB. Aeron keeps 3 terms per publication (48 MiB, sparse files) and lets a
   * publisher run up to half a term ahead of its slowest subscriber: more means fewer stalls on bursts of large
   * tensors, at the price of memory per link. Must be a power of two in [64 KiB, 1 GiB].
   */
  public static final int DEFAULT_TERM_LENGTH = 16 * 1024 * 1024;
  /**
   * MTU of an IPC link: Aeron's largest, 65504 bytes. IPC frames never meet a network, so the largest MTU means
   * fewest frame headers and the largest chunks that can be written in place with {@code tryClaim}.
   */
  public static final int DEFAULT_IPC_MTU = 65_504;
  /**
   * MTU of a UDP link between hosts: 8 KiB, which fits a 9000-byte jumbo-frame network without IP fragmentation.
   * On a 1500-byte network use 1408 (Aeron's default); on loopback 65504 is fastest (the bench uses it).
   */
  public static final int DEFAULT_UDP_MTU = 8 * 1024;

  private LinkChannel() {
  }

  /** {@code aeron:ipc?term-length=..|mtu=..}: a link between processes (or threads) of one host. */
  public static String ipc(int termLength, int mtu) {
    return new ChannelUriStringBuilder().media("ipc").termLength(termLength).mtu(mtu).build();
  }

  /** An IPC link with the default term length and MTU. */
  public static String ipc() {
    return ipc(DEFAULT_TERM_LENGTH, DEFAULT_IPC_MTU);
  }

  /**
   * {@code aeron:udp?endpoint=host:port|term-length=..|mtu=..}: a unicast link to the subscriber listening on
   * {@code endpoint}. Publisher and subscriber must use the same URI.
   */
  public static String udp(String endpoint, int termLength, int mtu) {
    return new ChannelUriStringBuilder().media("udp").endpoint(endpoint).termLength(termLength).mtu(mtu).build();
  }

  /** A UDP link with the default term length and MTU. */
  public static String udp(String endpoint) {
    return udp(endpoint, DEFAULT_TERM_LENGTH, DEFAULT_UDP_MTU);
  }
}
