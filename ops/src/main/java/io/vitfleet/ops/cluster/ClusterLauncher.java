package io.vitfleet.ops.cluster;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.vitfleet.ops.UserError;
import io.vitfleet.protocol.link.EmbeddedMediaDriver;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * Runs a whole vitfleet cluster on this machine (docs/cluster.md, "Processes and identities"): one Aeron media
 * driver inside this JVM, which every member uses as an Aeron client, and one JVM per member (coordinator first, as
 * the Pekko seed node, then the shards, the feeder and the workers), each running {@link #NODE_MAIN} with its role.
 *
 * <p>With simulated hosts ({@code vitfleet.cluster.simulated-hosts} K > 1) it gives each member one of K host
 * identities, round-robin within each kind (shard-i on host i mod K, the feeder on host 0, worker-n on host
 * (n - 1) mod K, so consecutive workers — which the planner puts on consecutive stages — are on different hosts),
 * and, whenever UDP is on, a UDP port of its own: links between hosts then run over Aeron UDP on this machine. The
 * one media driver serves every simulated host; UDP still goes through the kernel's sockets.
 *
 * <p>It supervises them the way the architecture's fault table asks: a shard or the feeder that dies is started again
 * with the same arguments (its state is on disk or a function of the committed step), a worker that dies is not (the
 * cluster re-plans without it; {@link #addWorker} brings a new one). Exits that a restart cannot cure (bad
 * configuration, TensorFlow missing, a shard store of another job, the coordinator gone) become the launcher's
 * {@link #failure}. {@link #stop} and a shutdown hook (Ctrl-C) end every member, so no JVM outlives the launcher
 * unless the launcher itself is killed with -9.
 *
 * <p>The methods other than start/stop are the handle tests and fault injectors use: kill a member as -9 would,
 * read its pid, wait for a status of the coordinator.
 */
public final class ClusterLauncher implements AutoCloseable {
  /** The member process's main class; {@link Launch#withMainClass} swaps it for a stand-in in tests. */
  public static final String NODE_MAIN = NodeMain.class.getName();
  /** Data-plane stream ids (docs/cluster.md): feeder, shard i = SHARD_STREAM + i, worker n = WORKER_STREAM + n. */
  public static final int FEEDER_STREAM = 1000;
  public static final int SHARD_STREAM = 2000;
  public static final int WORKER_STREAM = 3000;
  /**
   * How long members get to stop after SIGTERM (Pekko's coordinated shutdown: leave the cluster, close the shard
   * stores) before they are killed: 15 s. Shorter risks killing a shard mid-close (harmless for its data, which is
   * committed or dropped, but noisy); longer makes Ctrl-C feel stuck when a member hangs.
   */
  public static final Duration STOP_GRACE = Duration.ofSeconds(15);
  /**
   * Wait before restarting a dead shard or feeder: 0.5 s. It lets the failure detector and the media driver see the
   * old process go before the new one says hello under the same id; longer only delays recovery.
   */
  static final Duration RESTART_DELAY = Duration.ofMillis(500);
  /**
   * A shard or feeder restarted this many times within {@link #RESTART_WINDOW} is given up on: it is crashing on
   * start, and restarting it forever would only fill its log.
   */
  static final int MAX_RESTARTS = 5;
  static final Duration RESTART_WINDOW = Duration.ofSeconds(60);
  /** How often {@link #awaitStatus} re-reads status.json: often enough for tests, cheap for a 1 KB file. */
  static final Duration STATUS_POLL = Duration.ofMillis(200);

  /** The smallest heap a member JVM is given: below it the JVM spends its time collecting garbage. */
  static final long MIN_HEAP_BYTES = 16L << 20;

  /** A member's role: its {@code --role} value and whether the launcher restarts it when it dies. */
  public enum Role {
    COORDINATOR, SHARD, FEEDER, WORKER;

    public String flag() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** Shards and the feeder keep no state a restart loses; workers are replaced by re-planning instead. */
    boolean restartedWhenLost() {
      return this == SHARD || this == FEEDER;
    }
  }

  /**
   * A JVM heap size as HOCON writes it (2g, 512m, 1 GiB), in bytes. A worker's heap is also the memory it declares
   * to the planner, so {@code vitfleet up} plans with the same number the coordinator will.
   */
  public static long heapBytes(String setting, String size) {
    String v = size.trim();
    try {
      if (v.matches("\\d+")) {
        throw new ConfigException.BadValue(setting, "no unit");
      }
      long bytes = ConfigFactory.parseString("v = \"" + v + "\"").getBytes("v");
      if (bytes < MIN_HEAP_BYTES) {
        throw new UserError(setting + " " + size + " is too small for a JVM; give at least "
            + (MIN_HEAP_BYTES >> 20) + "m");
      }
      return bytes;
    } catch (ConfigException e) {
      throw new UserError(setting + " " + size + " is not a size with a unit; write e.g. 2g or 512m");
    }
  }

  /**
   * How a member process is started: main class, class path, JVM flags and environment. {@link #nodeMain} is the
   * real one; tests swap the main class for a stand-in.
   */
  public record Launch(String mainClass, String classpath, List<String> jvmFlags, Map<String, String> environment) {
    public Launch {
      jvmFlags = List.copyOf(jvmFlags);
      environment = Map.copyOf(environment);
    }

    /**
     * NodeMain on this JVM's class path, with the JVM flags and TensorFlow environment the build wrote
     * ({@code io/vitfleet/ops/jvm.flags} and {@code tf.env}, defined once in the root pom).
     */
    public static Launch nodeMain() {
      List<String> flags = List.of(resource("jvm.flags").trim().split("\\s+"));
      Map<String, String> env = new LinkedHashMap<>();
      for (String line : resource("tf.env").split("\n")) {
        String l = line.trim();
        int eq = l.indexOf('=');
        if (!l.isEmpty() && !l.startsWith("#") && eq > 0) {
          env.put(l.substring(0, eq), l.substring(eq + 1));
        }
      }
      return new Launch(NODE_MAIN, System.getProperty("java.class.path"), flags, env);
    }

    /** The same launch with another main class (a test stand-in for NodeMain). */
    public Launch withMainClass(String main) {
      return new Launch(main, classpath, jvmFlags, environment);
    }

    private static String resource(String name) {
      try (InputStream in = ClusterLauncher.class.getResourceAsStream("/io/vitfleet/ops/" + name)) {
        if (in == null) {
          throw new IllegalStateException("io/vitfleet/ops/" + name + " is not on the class path; build the ops "
              + "module (mvn package), which writes it from the root pom");
        }
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read io/vitfleet/ops/" + name, e);
      }
    }
  }

  /** One member: its fixed arguments and its current process (replaced when restarted). */
  private static final class Member {
    final String id;
    final Role role;
    /** Its host identity (this machine's, or a simulated host's). */
    final String host;
    final List<String> args;
    final Deque<Instant> restarts = new ArrayDeque<>();
    volatile Process process;
    /** Set by {@link ClusterLauncher#kill}: the process the launcher itself killed (fault injection). */
    volatile Process killedOnPurpose;

    Member(String id, Role role, String host, List<String> args) {
      this.id = id;
      this.role = role;
      this.host = host;
      this.args = List.copyOf(args);
    }
  }

  private final RunDirectory run;
  private final ClusterSettings settings;
  private final Launch launch;
  private final Consumer<String> events;
  private final Map<String, Member> members = new LinkedHashMap<>();
  private final ScheduledExecutorService supervisor = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "vitfleet-supervisor");
    t.setDaemon(true);
    return t;
  });
  private final Thread shutdownHook = new Thread(this::interrupted, "vitfleet-launcher-shutdown");
  private final CountDownLatch stopDone = new CountDownLatch(1);
  private final long workerHeapMib;
  private final long memberHeapMib;
  private EmbeddedMediaDriver driver;
  private int seedPort;
  private int lastWorker;
  /** The UDP ports handed out so far, one per member with a data plane: the range's first ones, or any free ones. */
  private final Set<Integer> udpPorts = new HashSet<>();
  private boolean started;
  private boolean stopping;
  private volatile String failure;

  /**
   * A launcher of the cluster {@code settings} describe (shards, workers, port, heaps) in {@code run}, starting
   * members as {@code launch} says; {@code events} receives one line per member exit, restart and failure (they also
   * go to logs/launcher.log).
   */
  public ClusterLauncher(RunDirectory run, ClusterSettings settings, Launch launch, Consumer<String> events) {
    if (run.aeronDir() == null) {
      throw new IllegalArgumentException(run + " was found, not created: launch clusters in a RunDirectory.create");
    }
    this.run = run;
    this.settings = settings;
    this.workerHeapMib = heapBytes("worker-heap", settings.workerHeap()) >> 20;
    this.memberHeapMib = heapBytes("member-heap", settings.memberHeap()) >> 20;
    this.launch = launch;
    this.events = events;
  }

  /**
   * Fails with a {@link UserError} naming the way out when {@code port} is taken on 127.0.0.1 (the coordinator would
   * fail to bind it, and the members would join whatever cluster holds it). Port 0 is always free.
   */
  public static void requireFreePort(int port) {
    if (port == 0) {
      return;
    }
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    } catch (IOException e) {
      throw new UserError("port " + port + " is in use (by another vitfleet up?): pass --port or stop it");
    }
  }

  /**
   * Fails with a {@link UserError} naming the port and the way out when the UDP ports of the members {@code up}
   * starts (one each for the shards, the feeder and the workers, from the start of {@code vitfleet.cluster.udp.ports})
   * are not all free on the UDP address, or the range has too few. Nothing to check when UDP is off; with any free
   * ports, only that the address can be bound.
   */
  public static void requireFreeUdpPorts(ClusterSettings s) {
    if (!s.usesUdp()) {
      return;
    }
    ClusterSettings.Udp udp = s.udp();
    int members = s.shards() + 1 + s.workers();
    if (udp.portCount() < members) {
      throw new UserError(ClusterSettings.ROOT + ".udp.ports " + udp.ports() + " has " + udp.portCount()
          + " ports for " + members + " members with a data plane (shards, feeder, workers): give a wider range with "
          + "--udp-ports");
    }
    int first = udp.anyPort() ? 0 : udp.firstPort();
    int last = udp.anyPort() ? 0 : udp.firstPort() + members - 1;
    for (int port = first; port <= last; port++) {
      try (DatagramSocket d = new DatagramSocket(null)) {
        d.setReuseAddress(false);
        d.bind(new InetSocketAddress(udp.address(), port));
      } catch (SocketException e) {
        String reason = String.valueOf(e.getMessage());
        throw new UserError(udpBindAdvice(udp.address() + ":" + port, reason,
            reason.toLowerCase(Locale.ROOT).contains("in use"), udp));
      }
    }
  }

  /**
   * The one-line error for a UDP address and port that cannot be bound: which, why, and what to do — free the port or
   * pick other ports when it is in use, otherwise name an address of this host.
   */
  static String udpBindAdvice(String endpoint, String reason, boolean inUse, ClusterSettings.Udp udp) {
    int colon = endpoint.lastIndexOf(':');
    if (inUse) {
      return "UDP port " + endpoint.substring(colon + 1) + " on " + endpoint.substring(0, colon) + " is in use "
          + "(another vitfleet up, or another program): stop what holds it, or give the data plane other ports with "
          + "--udp-ports FIRST-LAST (" + ClusterSettings.ROOT + ".udp.ports, now " + udp.ports() + ")";
    }
    return "cannot bind UDP " + endpoint + " (" + reason + "): set " + ClusterSettings.ROOT + ".udp.address to an "
        + "address of this host";
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot find a free port on 127.0.0.1", e);
    }
  }

  /**
   * Writes cluster.conf, starts the media driver and every member (coordinator, shards, feeder, workers) and
   * installs the shutdown hook. Returns once the processes are started, not once they have joined: wait for that
   * with {@link #awaitStatus}.
   */
  public synchronized void start() {
    if (started) {
      throw new IllegalStateException("this launcher was started already");
    }
    started = true;
    requireFreePort(settings.port());
    requireFreeUdpPorts(settings);
    seedPort = settings.port() == 0 ? freePort() : settings.port();
    run.writeClusterConf(settings.render());
    log("starting a cluster in " + run + ": " + settings.shards() + " shards, " + settings.workers() + " workers, port "
        + seedPort + ", aeron " + run.aeronDir() + (settings.simulatedHosts() > 1 ? ", "
        + settings.simulatedHosts() + " simulated hosts" : "") + (settings.usesUdp() ? ", UDP on "
        + settings.udp().address() + " ports " + settings.udp().ports() + " (MTU " + settings.udp().mtu() + ")" : ""));
    try {
      driver = EmbeddedMediaDriver.launch(run.aeronDir(), EmbeddedMediaDriver.Settings.DEFAULTS,
          t -> log("media driver: " + t));
      Runtime.getRuntime().addShutdownHook(shutdownHook);
      add(member("coordinator", Role.COORDINATOR, 0, seedPort, -1, -1));
      for (int i = 0; i < settings.shards(); i++) {
        add(member("shard-" + i, Role.SHARD, i, 0, SHARD_STREAM + i, i));
      }
      add(member("feeder", Role.FEEDER, 0, 0, FEEDER_STREAM, -1));
      for (int n = 0; n < settings.workers(); n++) {
        addWorkerLocked();
      }
    } catch (RuntimeException e) {
      stop();
      throw e;
    }
  }

  /**
   * Member {@code id} with its arguments. {@code nth} places it on simulated host {@code nth mod K}; a member with a
   * data plane ({@code stream >= 0}) takes the next UDP port when UDP is on.
   */
  private Member member(String id, Role role, int nth, int port, int stream, int shardIndex) {
    String host = settings.hostIdentity(nth % settings.simulatedHosts());
    List<String> a = new ArrayList<>(List.of("--role", role.flag(), "--id", id, "--run-dir", run.root().toString(),
        "--seed-port", Integer.toString(seedPort), "--port", Integer.toString(port), "--aeron-dir",
        run.aeronDir().toString()));
    if (stream >= 0) {
      a.addAll(List.of("--stream", Integer.toString(stream)));
    }
    if (shardIndex >= 0) {
      a.addAll(List.of("--shard-index", Integer.toString(shardIndex)));
    }
    if (settings.simulatedHosts() > 1 && role != Role.COORDINATOR) {
      a.addAll(List.of("--host", host));
    }
    if (settings.usesUdp() && stream >= 0) {
      a.addAll(List.of("--udp-port", Integer.toString(nextUdpPort(id))));
    }
    return new Member(id, role, host, a);
  }

  /** The next port of the UDP range, or any free one; a member keeps its port across restarts (same arguments). */
  private int nextUdpPort(String id) {
    ClusterSettings.Udp udp = settings.udp();
    while (udp.anyPort()) {
      try (DatagramSocket d = new DatagramSocket(new InetSocketAddress(udp.address(), 0))) {
        if (udpPorts.add(d.getLocalPort())) {
          return d.getLocalPort();
        }
      } catch (SocketException e) {
        throw new UserError(udpBindAdvice(udp.address() + ":0", String.valueOf(e.getMessage()), false, udp));
      }
    }
    if (udpPorts.size() >= udp.portCount()) {
      throw new UserError("no UDP port left for " + id + ": " + ClusterSettings.ROOT + ".udp.ports " + udp.ports()
          + " has " + udp.portCount() + " and all are taken by earlier members; give a wider range with --udp-ports");
    }
    int port = udp.firstPort() + udpPorts.size();
    udpPorts.add(port);
    return port;
  }

  /** Starts one more worker (the next id, worker-{n+1}) and returns its id; the coordinator plans it in. */
  public synchronized String addWorker() {
    if (!started || stopping) {
      throw new IllegalStateException("the cluster is not running: start it before adding workers");
    }
    return addWorkerLocked();
  }

  private String addWorkerLocked() {
    int n = ++lastWorker;
    String id = "worker-" + n;
    add(member(id, Role.WORKER, n - 1, 0, WORKER_STREAM + n, -1));
    return id;
  }

  private void add(Member m) {
    members.put(m.id, m);
    spawn(m);
  }

  private void spawn(Member m) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(launch.jvmFlags());
    cmd.add("-Xmx" + (m.role == Role.WORKER ? workerHeapMib : memberHeapMib) + "m");
    cmd.add("-cp");
    cmd.add(launch.classpath());
    cmd.add(launch.mainClass());
    cmd.addAll(m.args);
    Path logFile = run.log(m.id);
    appendLine(logFile, "---- vitfleet launcher: starting " + m.id + " at " + Instant.now()
        + (m.restarts.isEmpty() ? "" : " (restart " + m.restarts.size() + ")"));
    ProcessBuilder pb = new ProcessBuilder(cmd)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
    pb.environment().putAll(launch.environment());
    Process p;
    try {
      p = pb.start();
      p.getOutputStream().close();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + m.id + " (" + cmd.get(0) + "): " + e.getMessage(), e);
    }
    m.process = p;
    log("started " + m.id + " (pid " + p.pid() + ")");
    p.onExit().thenAcceptAsync(gone -> exited(m, gone), supervisor);
  }

  /** The supervisor's decision when a member's process ends on its own. */
  private void exited(Member m, Process gone) {
    synchronized (this) {
      if (stopping || m.process != gone) {
        return;
      }
    }
    int code = gone.exitValue();
    String what = m.id + " exited (code " + code + describe(code) + ")";
    String seeLog = "; see " + run.log(m.id);
    if (m.role == Role.COORDINATOR) {
      fail(what + ": the cluster has no coordinator" + seeLog);
    } else if (code == NodeMain.EXIT_CONFIG || code == NodeMain.EXIT_TENSORFLOW || code == NodeMain.EXIT_STORE) {
      fail(what + ": " + lastError(m.id).orElse("a restart would fail the same way") + seeLog);
    } else if (!m.role.restartedWhenLost()) {
      event(what + "; not restarted (the cluster continues without it)");
    } else if (m.killedOnPurpose != gone && tooManyRestarts(m)) {
      fail(what + "; it was restarted " + MAX_RESTARTS + " times within " + RESTART_WINDOW.toSeconds()
          + " s, not again" + seeLog);
    } else {
      event(what + "; restarting");
      supervisor.schedule(() -> restart(m, gone), RESTART_DELAY.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  private synchronized void restart(Member m, Process gone) {
    if (stopping || m.process != gone) {
      return;
    }
    try {
      spawn(m);
    } catch (RuntimeException e) {
      fail("cannot restart " + m.id + ": " + e.getMessage());
    }
  }

  private boolean tooManyRestarts(Member m) {
    Instant now = Instant.now();
    while (!m.restarts.isEmpty() && m.restarts.peekFirst().isBefore(now.minus(RESTART_WINDOW))) {
      m.restarts.removeFirst();
    }
    if (m.restarts.size() >= MAX_RESTARTS) {
      return true;
    }
    m.restarts.addLast(now);
    return false;
  }

  private static String describe(int code) {
    return switch (code) {
      case NodeMain.EXIT_CONFIG -> ": bad configuration";
      case NodeMain.EXIT_TENSORFLOW -> ": TensorFlow could not be loaded";
      case NodeMain.EXIT_STORE -> ": the shard store refuses to open";
      default -> "";
    };
  }

  /** The member's own one-line error ("vitfleet ID: error: ..."), the last in its log, if it wrote one. */
  private Optional<String> lastError(String memberId) {
    try (java.util.stream.Stream<String> lines = java.nio.file.Files.lines(run.log(memberId))) {
      String marker = "vitfleet " + memberId + ": error: ";
      return lines.filter(l -> l.startsWith(marker)).reduce((a, b) -> b).map(l -> l.substring(marker.length()));
    } catch (IOException | UncheckedIOException e) {
      return Optional.empty();
    }
  }

  private void fail(String message) {
    if (failure == null) {
      failure = message;
    }
    event(message);
  }

  private void event(String line) {
    log(line);
    events.accept(line);
  }

  /** Best effort: the launcher's log must never be why a member is not restarted or stopped. */
  private synchronized void log(String line) {
    try {
      appendLine(run.launcherLog(), Instant.now() + " " + line);
    } catch (UncheckedIOException e) {
      System.err.println("vitfleet: " + line);
    }
  }

  private static void appendLine(Path file, String line) {
    try {
      Files.writeString(file, line + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  /** Kills the member's current process as {@code kill -9} would (not its children: members start none). */
  /**
   * Kills the member's current process with SIGKILL (fault injection). A shard or the feeder is restarted as after
   * any death, but a kill through here does not count toward the crash-loop limit ({@link #MAX_RESTARTS}).
   */
  public void kill(String memberId) {
    Member m = member(memberId);
    Process p = m.process;
    m.killedOnPurpose = p;
    p.destroyForcibly();
  }

  /** The host identity the member runs under: this machine's, or its simulated host's. */
  public String host(String memberId) {
    return member(memberId).host;
  }

  /** The pid of the member's current process (a new one after each restart). */
  public long pid(String memberId) {
    return member(memberId).process.pid();
  }

  public boolean isAlive(String memberId) {
    return member(memberId).process.isAlive();
  }

  /** The ids of every member started so far, in start order (dead workers included). */
  public synchronized List<String> memberIds() {
    return List.copyOf(members.keySet());
  }

  private synchronized Member member(String id) {
    Member m = members.get(id);
    if (m == null) {
      throw new IllegalArgumentException("no member " + id + " in this cluster; members: " + members.keySet());
    }
    return m;
  }

  /** Why the cluster cannot go on (the coordinator died, a member cannot start), or empty while it can. */
  public Optional<String> failure() {
    return Optional.ofNullable(failure);
  }

  /** The Pekko port of the coordinator (the seed node). */
  public synchronized int seedPort() {
    return seedPort;
  }

  public RunDirectory run() {
    return run;
  }

  /** The coordinator's latest status, or empty before it wrote one. */
  public Optional<ClusterStatus> status() {
    return ClusterStatus.read(run.statusFile());
  }

  /**
   * Waits for a status satisfying {@code until} and returns it.
   *
   * @throws TimeoutException      if none came within {@code timeout} (the message has the last status seen)
   * @throws IllegalStateException if the cluster failed meanwhile ({@link #failure})
   */
  public ClusterStatus awaitStatus(Predicate<ClusterStatus> until, Duration timeout)
      throws InterruptedException, TimeoutException {
    return awaitStatus(until, timeout, STATUS_POLL);
  }

  /** {@link #awaitStatus(Predicate, Duration)}, reading the status every {@code poll} (finer for timing). */
  public ClusterStatus awaitStatus(Predicate<ClusterStatus> until, Duration timeout, Duration poll)
      throws InterruptedException, TimeoutException {
    long deadline = System.nanoTime() + timeout.toNanos();
    Optional<ClusterStatus> last = Optional.empty();
    while (true) {
      last = status();
      if (last.isPresent() && until.test(last.get())) {
        return last.get();
      }
      if (failure != null) {
        throw new IllegalStateException("the cluster failed: " + failure);
      }
      if (System.nanoTime() - deadline > 0) {
        throw new TimeoutException("no status as awaited within " + timeout.toSeconds() + " s; last: "
            + last.map(s -> s.state() + " at step " + s.step() + "/" + s.totalSteps()
            + (s.message().isEmpty() ? "" : " (" + s.message() + ")")).orElse("none written"));
      }
      Thread.sleep(poll.toMillis());
    }
  }

  /**
   * Stops every member: SIGTERM (Pekko's coordinated shutdown) to all but the coordinator, then to the coordinator
   * (so the others leave through a live leader), each killed if still running after {@link #STOP_GRACE} in all;
   * then the media driver and its directory. Idempotent; also what Ctrl-C runs.
   */
  public void stop() {
    List<Member> all;
    synchronized (this) {
      if (stopping) {
        awaitStopped();
        return;
      }
      stopping = true;
      all = List.copyOf(members.values());
    }
    try {
      long deadline = System.nanoTime() + STOP_GRACE.toNanos();
      terminate(all.stream().filter(m -> m.role != Role.COORDINATOR).toList(), deadline);
      terminate(all.stream().filter(m -> m.role == Role.COORDINATOR).toList(), deadline);
      supervisor.shutdownNow();
      if (driver != null) {
        driver.close();
      }
      deleteRecursively(run.aeronDir());
      try {
        Runtime.getRuntime().removeShutdownHook(shutdownHook);
      } catch (IllegalStateException shuttingDown) {
        // Running as the hook itself (Ctrl-C): the JVM is exiting anyway.
      }
      log("stopped");
    } finally {
      stopDone.countDown();
    }
  }

  /** Ctrl-C or SIGTERM: say so, then stop as {@link #stop} does. */
  private void interrupted() {
    event("interrupted: stopping every member");
    stop();
  }

  /**
   * A second stop (Ctrl-C during the first) waits for the first to finish: the JVM must not exit while members are
   * still being stopped, or they would outlive it.
   */
  private void awaitStopped() {
    try {
      stopDone.await(STOP_GRACE.toSeconds() + 10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void terminate(List<Member> ms, long deadline) {
    Map<String, Process> live = new LinkedHashMap<>();
    for (Member m : ms) {
      Process p = m.process;
      if (p != null && p.isAlive()) {
        live.put(m.id, p);
      }
    }
    live.values().forEach(Process::destroy);
    try {
      for (Map.Entry<String, Process> e : live.entrySet()) {
        long left = Math.max(0, deadline - System.nanoTime());
        if (!e.getValue().waitFor(left, TimeUnit.NANOSECONDS)) {
          log(e.getKey() + " did not stop within " + STOP_GRACE.toSeconds() + " s; killing it");
          e.getValue().destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
      }
    } catch (InterruptedException e) {
      live.values().forEach(Process::destroyForcibly);
      Thread.currentThread().interrupt();
    }
  }

  private static void deleteRecursively(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete the Aeron directory " + dir, e);
    }
  }

  /** Whether {@link #stop} has begun (also from Ctrl-C): members leaving now is no news. */
  public synchronized boolean isStopping() {
    return stopping;
  }

  /** Whether {@link #stop} has finished. */
  public boolean isStopped() {
    return stopDone.getCount() == 0;
  }

  @Override
  public void close() {
    stop();
  }
}
