package io.vitfleet.ops.cluster;

import static io.vitfleet.ops.cluster.LauncherFixtures.await;
import static io.vitfleet.ops.cluster.LauncherFixtures.smallCluster;
import static io.vitfleet.ops.cluster.LauncherFixtures.standIn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.vitfleet.ops.UserError;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClusterLauncherTest {
  private final List<String> events = new CopyOnWriteArrayList<>();

  private ClusterLauncher launcher(Path dir, Map<String, String> env) {
    return new ClusterLauncher(RunDirectory.create(dir), smallCluster(), standIn(env), events::add);
  }

  /** The arguments a stand-in member printed on each start, from its log. */
  private static List<String> startArgs(RunDirectory run, String id) throws Exception {
    return Files.readAllLines(run.log(id)).stream().filter(l -> l.startsWith("stand-in args: "))
        .map(l -> l.substring("stand-in args: ".length())).toList();
  }

  private static void awaitStarted(RunDirectory run, String id, int starts) throws InterruptedException {
    await(id + " started " + starts + " times", () -> {
      try {
        return Files.exists(run.log(id)) && startArgs(run, id).size() >= starts;
      } catch (Exception e) {
        return false;
      }
    });
  }

  @Test
  void shouldStartEveryMemberWithItsRoleIdStreamAndTheSeedPort(@TempDir Path tmp) throws Exception {
    try (ClusterLauncher c = launcher(tmp.resolve("run"), Map.of())) {
      c.start();
      RunDirectory run = c.run();
      assertEquals(List.of("coordinator", "shard-0", "feeder", "worker-1"), c.memberIds());
      String common = " --run-dir " + run.root() + " --seed-port " + c.seedPort();
      String aeron = " --aeron-dir " + run.aeronDir();
      for (String id : c.memberIds()) {
        awaitStarted(run, id, 1);
      }
      assertEquals(List.of("--role coordinator --id coordinator" + common + " --port " + c.seedPort() + aeron),
          startArgs(run, "coordinator"));
      assertEquals(List.of("--role shard --id shard-0" + common + " --port 0" + aeron
          + " --stream 2000 --shard-index 0"), startArgs(run, "shard-0"));
      assertEquals(List.of("--role feeder --id feeder" + common + " --port 0" + aeron + " --stream 1000"),
          startArgs(run, "feeder"));
      assertEquals(List.of("--role worker --id worker-1" + common + " --port 0" + aeron + " --stream 3001"),
          startArgs(run, "worker-1"));
      String conf = Files.readString(run.clusterConf());
      assertTrue(conf.contains("shards = 1") && conf.contains("workers = 1"), conf);
      assertTrue(Files.isDirectory(run.aeronDir()), "the media driver runs in " + run.aeronDir());
    }
  }

  @Test
  void shouldRestartAKilledShardWithTheSameArguments(@TempDir Path tmp) throws Exception {
    try (ClusterLauncher c = launcher(tmp.resolve("run"), Map.of())) {
      c.start();
      awaitStarted(c.run(), "shard-0", 1);
      long first = c.pid("shard-0");
      c.kill("shard-0");
      await("shard-0 restarted", () -> c.pid("shard-0") != first && c.isAlive("shard-0"));
      awaitStarted(c.run(), "shard-0", 2);
      List<String> starts = startArgs(c.run(), "shard-0");
      assertEquals(starts.get(0), starts.get(1));
      assertTrue(events.contains("shard-0 exited (code 137); restarting"), events.toString());
      assertTrue(c.failure().isEmpty());
    }
  }

  @Test
  void shouldRestartAKilledFeederButNotAKilledWorker(@TempDir Path tmp) throws Exception {
    try (ClusterLauncher c = launcher(tmp.resolve("run"), Map.of())) {
      c.start();
      long feeder = c.pid("feeder");
      c.kill("feeder");
      c.kill("worker-1");
      await("feeder restarted", () -> c.pid("feeder") != feeder && c.isAlive("feeder"));
      await("worker-1 reported", () -> events.contains(
          "worker-1 exited (code 137); not restarted (the cluster continues without it)"));
      assertFalse(c.isAlive("worker-1"));
      assertTrue(c.failure().isEmpty());
    }
  }

  @Test
  void shouldAddAWorkerUnderTheNextIdAndStream(@TempDir Path tmp) throws Exception {
    try (ClusterLauncher c = launcher(tmp.resolve("run"), Map.of())) {
      c.start();
      assertEquals("worker-2", c.addWorker());
      awaitStarted(c.run(), "worker-2", 1);
      assertTrue(startArgs(c.run(), "worker-2").get(0).endsWith(" --stream 3002"));
    }
  }

  @Test
  void shouldGiveUpOnAShardWhoseStoreRefusesToOpen(@TempDir Path tmp) throws Exception {
    try (ClusterLauncher c = launcher(tmp.resolve("run"), Map.of("STANDIN_EXIT_SHARD", "4"))) {
      c.start();
      await("the launcher fails", () -> c.failure().isPresent());
      assertEquals(Optional.of("shard-0 exited (code 4: the shard store refuses to open): a restart would fail the "
          + "same way; see " + c.run().log("shard-0")), c.failure());
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> c.awaitStatus(s -> true, LauncherFixtures.PATIENCE));
      assertTrue(e.getMessage().contains("shard-0 exited (code 4"), e.getMessage());
      assertEquals(1, startArgs(c.run(), "shard-0").size(), "not restarted");
    }
  }

  @Test
  void shouldStopEveryMemberAndRemoveTheAeronDirectory(@TempDir Path tmp) throws Exception {
    ClusterLauncher c = launcher(tmp.resolve("run"), Map.of());
    c.start();
    List<ProcessHandle> members = new ArrayList<>();
    for (String id : c.memberIds()) {
      members.add(ProcessHandle.of(c.pid(id)).orElseThrow());
    }
    c.stop();
    for (ProcessHandle p : members) {
      assertFalse(p.isAlive(), "member pid " + p.pid() + " survived stop()");
    }
    assertFalse(Files.exists(c.run().aeronDir()));
    assertTrue(c.isStopped());
    assertTrue(events.isEmpty(), "a stop is not a crash: " + events);
  }

  @Test
  void shouldPlaceMembersRoundRobinOnSimulatedHostsEachWithAUdpPortOfItsOwn(@TempDir Path tmp) throws Exception {
    ClusterSettings twoHosts = ClusterSettings.from(ConfigFactory.parseString("vitfleet.cluster { shards = 2, "
        + "workers = 2, port = 0, worker-heap = 64m, member-heap = 64m, host = vm, simulated-hosts = 2, "
        + "udp.ports = 0 }").withFallback(ConfigFactory.defaultReference()).resolve());
    try (ClusterLauncher c = new ClusterLauncher(RunDirectory.create(tmp.resolve("run")), twoHosts, standIn(Map.of()),
        events::add)) {
      c.start();
      c.addWorker();
      Map<String, String> expectedHosts = Map.of("shard-0", "vm/sim-0", "shard-1", "vm/sim-1", "feeder", "vm/sim-0",
          "worker-1", "vm/sim-0", "worker-2", "vm/sim-1", "worker-3", "vm/sim-0");
      Set<String> ports = new HashSet<>();
      for (Map.Entry<String, String> e : expectedHosts.entrySet()) {
        awaitStarted(c.run(), e.getKey(), 1);
        String args = startArgs(c.run(), e.getKey()).get(0);
        assertTrue(args.contains(" --host " + e.getValue() + " --udp-port "), e.getKey() + ": " + args);
        assertEquals(e.getValue(), c.host(e.getKey()));
        ports.add(args.substring(args.indexOf("--udp-port ") + "--udp-port ".length()));
      }
      assertEquals(expectedHosts.size(), ports.size(), "every member listens on its own UDP port: " + ports);
      awaitStarted(c.run(), "coordinator", 1);
      String coordinator = startArgs(c.run(), "coordinator").get(0);
      assertFalse(coordinator.contains("--host") || coordinator.contains("--udp-port"), coordinator);
      String conf = Files.readString(c.run().clusterConf());
      assertTrue(conf.contains("simulated-hosts = 2") && conf.contains("enabled = true"), conf);
    }
  }

  @Test
  void shouldRefuseAUdpPortThatIsInUseNamingThePortAndTheWayOut() throws Exception {
    try (DatagramSocket taken = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      ClusterSettings s = ClusterSettings.from(ConfigFactory.parseString("vitfleet.cluster { shards = 1, "
          + "workers = 1, udp { enabled = true, ports = \"" + (port - 1) + "-" + (port + 1) + "\" } }")
          .withFallback(ConfigFactory.defaultReference()).resolve());
      UserError e = assertThrows(UserError.class, () -> ClusterLauncher.requireFreeUdpPorts(s));
      assertEquals("UDP port " + port + " on 127.0.0.1 is in use (another vitfleet up, or another program): stop "
          + "what holds it, or give the data plane other ports with --udp-ports FIRST-LAST (vitfleet.cluster.udp"
          + ".ports, now " + (port - 1) + "-" + (port + 1) + ")", e.getMessage());
    }
  }

  @Test
  void shouldRefuseAPortThatIsInUseNamingTheWayOut() throws Exception {
    try (ServerSocket taken = new ServerSocket()) {
      taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      UserError e = assertThrows(UserError.class, () -> ClusterLauncher.requireFreePort(taken.getLocalPort()));
      assertEquals("port " + taken.getLocalPort() + " is in use (by another vitfleet up?): pass --port or stop it",
          e.getMessage());
    }
  }

  @Test
  void shouldLeaveNoMemberAliveWhenTheLauncherIsInterrupted(@TempDir Path tmp) throws Exception {
    ClusterLauncher.Launch java = ClusterLauncher.Launch.nodeMain();
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(java.jvmFlags());
    cmd.addAll(List.of("-Xmx128m", "-cp", java.classpath(), LauncherProcess.class.getName(),
        tmp.resolve("run").toString()));
    Process launcher = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    List<ProcessHandle> members = new ArrayList<>();
    List<String> printed = new ArrayList<>();
    List<ProcessHandle> survivors;
    try (BufferedReader out = new BufferedReader(new InputStreamReader(launcher.getInputStream(),
        StandardCharsets.UTF_8))) {
      String line;
      while (members.isEmpty() && (line = out.readLine()) != null) {
        printed.add(line);
        if (line.startsWith("pids ")) {
          Arrays.stream(line.substring(5).split(" ")).map(Long::parseLong)
              .forEach(pid -> members.add(ProcessHandle.of(pid).orElseThrow()));
        }
      }
      assertEquals(4, members.size(), "the launcher started its members: " + printed);
      launcher.destroy();
      assertTrue(launcher.waitFor(LauncherFixtures.PATIENCE.toSeconds(), TimeUnit.SECONDS), "the launcher exits");
      survivors = members.stream().filter(ProcessHandle::isAlive).toList();
    } finally {
      launcher.destroyForcibly();
      members.forEach(ProcessHandle::destroyForcibly);
    }
    assertEquals(List.of(), survivors.stream().map(ProcessHandle::pid).toList(), "members outlived their launcher");
  }
}
