package io.vitfleet.ops.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.vitfleet.protocol.control.Endpoint;
import io.vitfleet.protocol.link.Transport;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a member announces as its data endpoint, from its launcher's arguments and cluster.conf. */
class MemberRoleTest {
  private static ClusterSettings settings(String hocon) {
    return ClusterSettings.from(ConfigFactory.parseString("vitfleet.cluster { host = vm, " + hocon + " }")
        .withFallback(ConfigFactory.defaultReference()).resolve());
  }

  @TempDir
  Path runDir;

  private NodeMain.Args args(String... extra) {
    String[] base = {"--role", "worker", "--id", "worker-2", "--run-dir", runDir.toString(), "--seed-port", "25520",
        "--stream", "3002"};
    String[] all = new String[base.length + extra.length];
    System.arraycopy(base, 0, all, 0, base.length);
    System.arraycopy(extra, 0, all, base.length, extra.length);
    return NodeMain.Args.parse(all);
  }

  @Test
  void aMemberOnOneHostAnnouncesThisMachinesIdentityAndIpcOnly() {
    Endpoint e = MemberRole.endpoint(args(), settings(""));
    assertEquals("vm", e.host());
    assertEquals(3002, e.streamId());
    assertNull(e.udpChannel());
  }

  @Test
  void aMemberOnASimulatedHostAnnouncesThatHostAndUdpOnTheAddressAndPortItWasGiven() {
    ClusterSettings s = settings("simulated-hosts = 2, udp.mtu = 1408");
    Endpoint e = MemberRole.endpoint(args("--host", "vm/sim-1", "--udp-port", "21004"), s);
    assertEquals("vm/sim-1", e.host());
    assertTrue(e.udpChannel().contains("endpoint=127.0.0.1:21004") && e.udpChannel().contains("mtu=1408"),
        e.udpChannel());
    assertEquals(Transport.UDP, Transport.between("vm/sim-0", e));
  }

  @Test
  void aMemberThatShouldListenOnUdpButWasGivenNoPortRefusesToStart() {
    MemberRole.RoleFailure f = assertThrows(MemberRole.RoleFailure.class,
        () -> MemberRole.endpoint(args(), settings("udp.enabled = true")));
    assertEquals(NodeMain.EXIT_CONFIG, f.exitCode());
    assertTrue(f.getMessage().contains("--udp-port is missing"), f.getMessage());
  }
}
