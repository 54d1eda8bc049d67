package io.vitfleet.ops.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.vitfleet.ops.UserError;
import org.junit.jupiter.api.Test;

class ClusterSettingsTest {
  private static ClusterSettings settings(String hocon) {
    return ClusterSettings.from(ConfigFactory.parseString("vitfleet.cluster { " + hocon + " }")
        .withFallback(ConfigFactory.defaultReference()).resolve());
  }

  @Test
  void theHostIdentityDefaultsToThisMachinesNameAndSimulatedHostsAreNamedAfterIt() {
    ClusterSettings one = settings("");
    assertEquals(ClusterSettings.localHostName(), one.host());
    assertEquals(one.host(), one.hostIdentity(0));
    ClusterSettings three = settings("host = rack7, simulated-hosts = 3");
    assertEquals("rack7/sim-0", three.hostIdentity(0));
    assertEquals("rack7/sim-2", three.hostIdentity(2));
    assertThrows(IllegalArgumentException.class, () -> three.hostIdentity(3));
  }

  @Test
  void udpIsOffOnOneHostUnlessAskedAndAlwaysOnWhenHostsAreSimulated() {
    assertFalse(settings("").usesUdp());
    assertTrue(settings("udp.enabled = true").usesUdp());
    assertTrue(settings("simulated-hosts = 2").usesUdp());
    assertTrue(ClusterSettings.local(2, 2, 1).withSimulatedHosts(2).usesUdp());
  }

  @Test
  void theDefaultsAreLoopbackAPortRangeOutsideTheEphemeralOnesAndTheJumboFrameMtu() {
    ClusterSettings.Udp udp = settings("").udp();
    assertEquals("127.0.0.1", udp.address());
    assertEquals(21000, udp.firstPort());
    assertEquals(100, udp.portCount());
    assertEquals(8192, udp.mtu());
    assertTrue(ClusterSettings.local(2, 2, 1).udp().anyPort(), "checks and tests take any free ports");
  }

  @Test
  void aPortRangeIsReadAsFirstToLastAndZeroMeansAnyFreePort() {
    ClusterSettings.Udp range = settings("udp.ports = \"40000 - 40003\"").udp();
    assertEquals(40000, range.firstPort());
    assertEquals(40003, range.lastPort());
    assertEquals(4, range.portCount());
    assertEquals("40000-40003", range.ports());
    ClusterSettings.Udp any = settings("udp.ports = 0").udp();
    assertTrue(any.anyPort());
    assertEquals("0", any.ports());
  }

  @Test
  void aBadPortRangeMtuOrHostCountIsRefusedNamingTheSettingAndWhatFits() {
    assertTrue(assertThrows(UserError.class, () -> settings("udp.ports = \"9-3\"")).getMessage()
        .contains("vitfleet.cluster.udp.ports must be FIRST-LAST within 1-65535 (e.g. 21000-21099) or 0"));
    assertTrue(assertThrows(UserError.class, () -> settings("udp.ports = \"all of them\"")).getMessage()
        .contains("got 'all of them'"));
    assertTrue(assertThrows(UserError.class, () -> settings("udp.mtu = 1500")).getMessage()
        .contains("vitfleet.cluster.udp.mtu must be a multiple of 32"));
    assertTrue(assertThrows(UserError.class, () -> settings("simulated-hosts = 0")).getMessage()
        .contains("--hosts (vitfleet.cluster.simulated-hosts) must be >= 1, got 0"));
  }

  @Test
  void whatTheLauncherWritesIsWhatEveryMemberReadsBack() {
    ClusterSettings s = settings("host = \"node-4.example\", simulated-hosts = 2, udp { enabled = true, address = "
        + "\"127.0.0.1\", ports = \"23000-23010\", mtu = 1408 }");
    ClusterSettings back = ClusterSettings.from(ConfigFactory.parseString(s.render())
        .withFallback(ConfigFactory.defaultReference()).resolve());
    assertEquals(s, back);
  }
}
