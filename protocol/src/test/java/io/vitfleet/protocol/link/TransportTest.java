package io.vitfleet.protocol.link;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitfleet.protocol.control.Endpoint;
import org.junit.jupiter.api.Test;

/** The channel choice alone: which transport a sender uses to reach a peer, and which channel of the peer's. */
class TransportTest {
  private static final Endpoint ON_A_WITH_UDP = DataPlane.endpoint("worker-2", 3002, "host-a", "127.0.0.1:21001",
      LinkChannel.DEFAULT_UDP_MTU);
  private static final Endpoint ON_A_IPC_ONLY = DataPlane.endpoint("shard-0", 2000, "host-a", null, 0);

  @Test
  void aPeerOnTheSameHostIsReachedOverIpcEvenWhenItOffersUdp() {
    assertEquals(Transport.IPC, Transport.between("host-a", ON_A_WITH_UDP));
    assertEquals(ON_A_WITH_UDP.channel(), Transport.IPC.channelOf(ON_A_WITH_UDP));
  }

  @Test
  void aPeerOnAnotherHostIsReachedOverItsUdpChannel() {
    assertEquals(Transport.UDP, Transport.between("host-b", ON_A_WITH_UDP));
    assertEquals(ON_A_WITH_UDP.udpChannel(), Transport.UDP.channelOf(ON_A_WITH_UDP));
  }

  @Test
  void aPeerOnAnotherHostWithoutUdpIsUnreachableAndTheMessageSaysWhatToEnable() {
    Transport.UnreachableException e = assertThrows(Transport.UnreachableException.class,
        () -> Transport.between("host-b", ON_A_IPC_ONLY));
    assertTrue(e.getMessage().contains("shard-0 is on host host-a") && e.getMessage().contains("host-b")
        && e.getMessage().contains("vitfleet.cluster.udp.enabled"), e.getMessage());
  }

  @Test
  void hostIdentitiesAreComparedExactlySoSimulatedHostsOfOneMachineDiffer() {
    Endpoint onSim1 = DataPlane.endpoint("worker-1", 3001, "vm/sim-1", "127.0.0.1:21002", 1408);
    assertEquals(Transport.UDP, Transport.between("vm/sim-0", onSim1));
    assertEquals(Transport.IPC, Transport.between("vm/sim-1", onSim1));
  }

  @Test
  void endpointsWithoutAHostAreAllOnTheLocalHostAndReachEachOtherOverIpc() {
    Endpoint legacy = new Endpoint("feeder", "aeron:ipc", 1000);
    assertEquals(Endpoint.LOCAL_HOST, legacy.host());
    assertEquals(Transport.IPC, Transport.between(DataPlane.ipcEndpoint("worker-1", 3001).host(), legacy));
  }

  @Test
  void theUdpChannelCarriesLinkChannelsUdpTermLengthAndTheMtuAsked() {
    assertEquals("aeron:udp?endpoint=127.0.0.1:21001|mtu=8192|term-length=16777216", ON_A_WITH_UDP.udpChannel());
    assertEquals(Transport.UDP, Transport.ofChannel(ON_A_WITH_UDP.udpChannel()));
    assertEquals(Transport.IPC, Transport.ofChannel(ON_A_WITH_UDP.channel()));
  }

  @Test
  void anEndpointRefusesAChannelOfTheWrongMedium() {
    assertThrows(IllegalArgumentException.class,
        () -> new Endpoint("w", "h", "aeron:udp?endpoint=127.0.0.1:1", null, 1));
    assertThrows(IllegalArgumentException.class, () -> new Endpoint("w", "h", "aeron:ipc", "aeron:ipc", 1));
  }
}
