package io.vitfleet.ops.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigUtil;
import io.vitfleet.ops.UserError;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The cluster's own settings ({@code vitfleet.cluster}, defaults in ops' reference.conf): how many shards and workers
 * `up` starts, what it asks of the plan, the step deadline, the JVM heaps, and where the data plane runs — this
 * machine's host identity, how many hosts to simulate on it, and the UDP links between hosts. The launcher writes
 * them to {@code <run dir>/cluster.conf}; every member reads the same file.
 *
 * @param host this machine's host identity (the hostname unless set): members with equal identities talk over IPC
 * @param simulatedHosts hosts {@code up} spreads its members over on this one machine (1 = none simulated)
 */
public record ClusterSettings(int shards, int workers, int stages, int replicas, int minWorkers,
                              Duration stepTimeout, String workerHeap, String memberHeap, int port, String host,
                              int simulatedHosts, Udp udp) {
  public static final String ROOT = "vitfleet.cluster";
  public static final String FILE = "cluster.conf";

  /**
   * The data plane's UDP links between hosts: whether members listen on UDP at all, the address they bind and
   * announce, the ports the launcher hands out (one per member, in start order), and the MTU of the links.
   *
   * @param firstPort the range's first port; 0 (with {@code lastPort} 0) = any free port, chosen at start
   */
  public record Udp(boolean enabled, String address, int firstPort, int lastPort, int mtu) {
    private static final Pattern RANGE = Pattern.compile("(\\d+)\\s*-\\s*(\\d+)");
    /** Aeron's limits: frames are 32-byte aligned, and a UDP datagram carries at most 65504 bytes of them. */
    private static final int MTU_ALIGNMENT = 32;
    private static final int MAX_MTU = 65_504;
    private static final int MIN_MTU = 1024;

    public Udp {
      if (address == null || address.isBlank()) {
        throw new UserError(ROOT + ".udp.address must name an address of this host, e.g. 127.0.0.1");
      }
      boolean any = firstPort == 0 && lastPort == 0;
      if (!any && (firstPort < 1 || lastPort > 65535 || firstPort > lastPort)) {
        throw new UserError(ROOT + ".udp.ports must be FIRST-LAST within 1-65535 (e.g. 21000-21099) or 0 for any "
            + "free ports; got " + ports(firstPort, lastPort));
      }
      if (mtu < MIN_MTU || mtu > MAX_MTU || mtu % MTU_ALIGNMENT != 0) {
        throw new UserError(ROOT + ".udp.mtu must be a multiple of 32 in " + MIN_MTU + "-" + MAX_MTU + " (8192 "
            + "with jumbo frames, 1408 on a 1500-byte network); got " + mtu);
      }
    }

    /** Parses {@code FIRST-LAST} or {@code 0}. */
    static Udp of(boolean enabled, String address, String ports, int mtu) {
      String p = ports.trim();
      if (p.equals("0")) {
        return new Udp(enabled, address, 0, 0, mtu);
      }
      Matcher m = RANGE.matcher(p);
      if (!m.matches()) {
        throw new UserError(ROOT + ".udp.ports must be FIRST-LAST (e.g. 21000-21099) or 0 for any free ports; got '"
            + ports + "'");
      }
      try {
        return new Udp(enabled, address, Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), mtu);
      } catch (NumberFormatException e) {
        throw new UserError(ROOT + ".udp.ports '" + ports + "' holds a number too large for a port");
      }
    }

    /** Whether ports are any free ones rather than a range. */
    public boolean anyPort() {
      return firstPort == 0;
    }

    /** How many members the range has ports for ({@link Integer#MAX_VALUE} for any free port). */
    public int portCount() {
      return anyPort() ? Integer.MAX_VALUE : lastPort - firstPort + 1;
    }

    /** The range as the setting reads: {@code FIRST-LAST}, or {@code 0}. */
    public String ports() {
      return ports(firstPort, lastPort);
    }

    private static String ports(int first, int last) {
      return first == 0 && last == 0 ? "0" : first + "-" + last;
    }

    /** The same with any free ports instead of the range. */
    public Udp anyFreePort() {
      return new Udp(enabled, address, 0, 0, mtu);
    }
  }

  public ClusterSettings {
    if (shards < 1 || workers < 0 || stages < 0 || replicas < 0 || minWorkers < 0) {
      throw new UserError("cluster settings: shards must be >= 1 and workers, stages, replicas, min-workers >= 0; "
          + "got shards=" + shards + " workers=" + workers + " stages=" + stages + " replicas=" + replicas);
    }
    if (simulatedHosts < 1) {
      throw new UserError("--hosts (" + ROOT + ".simulated-hosts) must be >= 1, got " + simulatedHosts);
    }
    if (host == null || host.isBlank()) {
      host = localHostName();
    }
  }

  /** Reads {@code vitfleet.cluster} from {@code c} (which includes the reference defaults). */
  public static ClusterSettings from(Config c) {
    try {
      Config k = c.getConfig(ROOT);
      return new ClusterSettings(k.getInt("shards"), k.getInt("workers"), k.getInt("stages"), k.getInt("replicas"),
          k.getInt("min-workers"), k.getDuration("step-timeout"), k.getString("worker-heap"),
          k.getString("member-heap"), k.getInt("port"), k.getString("host"), k.getInt("simulated-hosts"),
          Udp.of(k.getBoolean("udp.enabled"), k.getString("udp.address"), k.getString("udp.ports"),
              k.getInt("udp.mtu")));
    } catch (ConfigException e) {
      throw new UserError("bad cluster setting: " + e.getMessage());
    }
  }

  /**
   * The default cluster with {@code workers} workers (all waited for), the plan asked as P={@code stages},
   * D={@code replicas}, and any free ports (Pekko, and UDP when enabled): what the checks, benchmarks and chaos tests
   * run.
   */
  public static ClusterSettings local(int workers, int stages, int replicas) {
    ClusterSettings d = from(ConfigFactory.defaultReference());
    return new ClusterSettings(d.shards(), workers, stages, replicas, workers, d.stepTimeout(), d.workerHeap(),
        d.memberHeap(), 0, d.host(), d.simulatedHosts(), d.udp().anyFreePort());
  }

  /** The same cluster spread over {@code hosts} simulated hosts of this machine (UDP links between them). */
  public ClusterSettings withSimulatedHosts(int hosts) {
    return new ClusterSettings(shards, workers, stages, replicas, minWorkers, stepTimeout, workerHeap, memberHeap,
        port, host, hosts, udp);
  }

  /** Reads {@code <run dir>/cluster.conf} over the defaults. */
  public static ClusterSettings read(Path runDir) {
    Path f = runDir.resolve(FILE);
    if (!Files.isRegularFile(f)) {
      throw new UserError("no " + FILE + " in " + runDir + ": start members through `vitfleet up`");
    }
    return from(ConfigFactory.parseFile(f.toFile()).withFallback(ConfigFactory.defaultReference()).resolve());
  }

  /** Workers to wait for before the first plan. */
  public int workersToWaitFor() {
    return minWorkers > 0 ? minWorkers : Math.max(1, workers);
  }

  /** Whether members listen on UDP: when asked, and always when hosts are simulated (their links need it). */
  public boolean usesUdp() {
    return udp.enabled() || simulatedHosts > 1;
  }

  /**
   * The host identity of simulated host {@code k} (0-based): {@code <host>/sim-<k>}, or just {@link #host} when no
   * hosts are simulated.
   */
  public String hostIdentity(int k) {
    if (k < 0 || k >= simulatedHosts) {
      throw new IllegalArgumentException("simulated host " + k + " is outside 0.." + (simulatedHosts - 1));
    }
    return simulatedHosts == 1 ? host : host + "/sim-" + k;
  }

  /** As HOCON, for {@code cluster.conf}. */
  public String render() {
    return ROOT + " {\n  shards = " + shards + "\n  workers = " + workers + "\n  stages = " + stages
        + "\n  replicas = " + replicas + "\n  min-workers = " + minWorkers + "\n  step-timeout = "
        + stepTimeout.toMillis() + "ms\n  worker-heap = \"" + workerHeap + "\"\n  member-heap = \"" + memberHeap
        + "\"\n  port = " + port + "\n  host = " + ConfigUtil.quoteString(host) + "\n  simulated-hosts = "
        + simulatedHosts + "\n  udp {\n    enabled = " + usesUdp() + "\n    address = "
        + ConfigUtil.quoteString(udp.address()) + "\n    ports = \"" + udp.ports() + "\"\n    mtu = " + udp.mtu()
        + "\n  }\n}\n";
  }

  /** This machine's name, the default host identity; "localhost" when the system cannot say. */
  static String localHostName() {
    try {
      String name = InetAddress.getLocalHost().getHostName();
      return name == null || name.isBlank() ? "localhost" : name;
    } catch (UnknownHostException e) {
      return "localhost";
    }
  }
}
