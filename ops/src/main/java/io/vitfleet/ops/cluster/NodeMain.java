package io.vitfleet.ops.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import io.vitfleet.coordinator.job.CoordinatorActor;
import io.vitfleet.coordinator.job.CoordinatorSettings;
import io.vitfleet.coordinator.plan.PlanConstraints;
import io.vitfleet.ops.UserError;
import io.vitfleet.ops.train.JobConfig;
import io.vitfleet.protocol.control.ControlMessage;
import io.vitfleet.protocol.control.DataPlaneMetrics;
import io.vitfleet.protocol.control.JobSpec;
import io.vitfleet.protocol.control.Members;
import io.vitfleet.protocol.link.DataPlane;
import io.vitfleet.protocol.link.Transport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.ClusterSingletonSettings;
import org.apache.pekko.cluster.typed.SingletonActor;

/**
 * One member process of a vitfleet cluster: joins the Pekko cluster, and runs one role — the coordinator (seed node
 * and singleton host), a param-store shard, the feeder or a worker — with its data plane on the host's Aeron media
 * driver. `vitfleet up` starts these; see docs/cluster.md for the arguments' meaning.
 *
 * <p>Exit codes: 0 stopped, 2 bad configuration, 3 TensorFlow cannot be loaded, 4 the shard store refuses to open.
 */
public final class NodeMain {
  /** Members register with the Receptionist under this key; ops tools list the cluster through it. */
  public static final ServiceKey<ControlMessage> MEMBERS = Members.KEY;
  public static final String COORDINATOR = "coordinator";
  public static final int EXIT_CONFIG = 2;
  public static final int EXIT_TENSORFLOW = 3;
  public static final int EXIT_STORE = 4;
  /** How often a member reports its data plane's metrics (dropped frames, transports). */
  private static final Duration METRICS_EVERY = Duration.ofSeconds(2);

  /**
   * The parsed command line of a member.
   *
   * @param host its host identity, or null for cluster.conf's {@code host}
   * @param udpPort the UDP port its data plane listens on, or 0 when it takes nothing from other hosts
   */
  record Args(String role, String id, Path runDir, int seedPort, int port, String aeronDir, int stream,
              int shardIndex, String host, int udpPort) {
    static Args parse(String[] argv) {
      Map<String, String> m = new HashMap<>();
      for (int i = 0; i < argv.length; i++) {
        if (!argv[i].startsWith("--") || i + 1 >= argv.length) {
          throw new UserError("bad member argument '" + argv[i] + "': expected --name value pairs");
        }
        m.put(argv[i].substring(2), argv[++i]);
      }
      for (String required : new String[] {"role", "id", "run-dir", "seed-port"}) {
        if (!m.containsKey(required)) {
          throw new UserError("member argument --" + required + " is missing");
        }
      }
      return new Args(m.get("role"), m.get("id"), Path.of(m.get("run-dir")), Integer.parseInt(m.get("seed-port")),
          Integer.parseInt(m.getOrDefault("port", "0")), m.get("aeron-dir"),
          Integer.parseInt(m.getOrDefault("stream", "0")), Integer.parseInt(m.getOrDefault("shard-index", "-1")),
          m.get("host"), Integer.parseInt(m.getOrDefault("udp-port", "0")));
    }
  }

  private NodeMain() {
  }

  public static void main(String[] argv) {
    Args args;
    JobConfig job;
    ClusterSettings cluster;
    try {
      args = Args.parse(argv);
      job = readJob(args.runDir());
      cluster = ClusterSettings.read(args.runDir());
    } catch (UserError | IllegalArgumentException e) {
      System.err.println("vitfleet member: error: " + e.getMessage());
      System.exit(EXIT_CONFIG);
      return;
    }
    MemberRole role;
    try {
      role = role(args, job, cluster);
    } catch (MemberRole.RoleFailure e) {
      System.err.println("vitfleet " + args.id() + ": error: " + e.getMessage());
      System.exit(e.exitCode());
      return;
    } catch (UserError | IllegalArgumentException e) {
      System.err.println("vitfleet " + args.id() + ": error: " + e.getMessage());
      System.exit(EXIT_CONFIG);
      return;
    }
    ActorSystem<Void> system = ActorSystem.create(guardian(args, role), "vitfleet", pekkoConfig(args));
    // A member outlives no launcher: when `vitfleet up` dies (even by kill -9) its members leave and exit too.
    ProcessHandle.current().parent().ifPresent(parent -> parent.onExit().thenRun(() -> {
      System.err.println(args.id() + ": the launcher (pid " + parent.pid() + ") exited; stopping");
      system.terminate();
    }));
    system.getWhenTerminated().toCompletableFuture().join();
    role.close();
  }

  /** The job file every member reads: {@code <run dir>/job.conf}, over the reference defaults. */
  public static JobConfig readJob(Path runDir) {
    Path f = runDir.resolve("job.conf");
    if (!Files.isRegularFile(f)) {
      throw new UserError("no job.conf in " + runDir + ": start members through `vitfleet up`");
    }
    return JobConfig.fromConfig(ConfigFactory.parseFile(f.toFile()).withFallback(ConfigFactory.defaultReference())
        .resolve());
  }

  private static Config pekkoConfig(Args a) {
    int port = a.role().equals(COORDINATOR) ? a.seedPort() : a.port();
    String overrides = "pekko.remote.artery.canonical.port = " + port + "\n"
        + "pekko.cluster.roles = [\"" + a.role() + "\"]\n"
        + "pekko.cluster.seed-nodes = [\"pekko://vitfleet@127.0.0.1:" + a.seedPort() + "\"]\n";
    return ConfigFactory.parseString(overrides)
        .withFallback(ConfigFactory.parseResources("io/vitfleet/ops/cluster-node.conf",
            ConfigParseOptions.defaults().setAllowMissing(false)))
        .withFallback(ConfigFactory.load());
  }

  /** The job's units of work as the coordinator and planner see them. */
  public static JobSpec jobSpec(JobConfig job) {
    return new JobSpec(job.fingerprint(), job.model().name(), job.dataset(), job.globalBatch(), job.microbatch(),
        job.groups(), job.seed());
  }

  private static Behavior<Void> guardian(Args args, MemberRole role) {
    return Behaviors.setup(ctx -> {
      JobConfig job = role.job();
      Behavior<ControlMessage> singleton = args.role().equals(COORDINATOR)
          ? CoordinatorActor.create(new CoordinatorSettings(job.model(), jobSpec(job), role.cluster().shards(),
              new PlanConstraints(role.cluster().stages(), role.cluster().replicas()),
              role.cluster().workersToWaitFor(), job.steps(), role.cluster().stepTimeout(),
              args.runDir().resolve("status.json")))
          : Behaviors.empty();
      ActorRef<ControlMessage> coordinator = ClusterSingleton.get(ctx.getSystem()).init(
          SingletonActor.of(singleton, "coordinator")
              .withSettings(ClusterSingletonSettings.create(ctx.getSystem()).withRole(COORDINATOR)));
      role.start(ctx, coordinator);
      DataPlane plane = role.dataPlane();
      if (plane != null) {
        long jobId = job.fingerprint();
        ctx.getSystem().scheduler().scheduleAtFixedRate(METRICS_EVERY, METRICS_EVERY,
            () -> coordinator.tell(metrics(jobId, args.id(), plane)), ctx.getExecutionContext());
      }
      return Behaviors.empty();
    });
  }

  /** What a member reports of its data plane: drops, its host, frames by transport, each link's transport. */
  static DataPlaneMetrics metrics(long jobId, String memberId, DataPlane plane) {
    Map<String, Long> frames = new TreeMap<>();
    frames.put(Transport.IPC.label(), plane.framesReceived(Transport.IPC));
    if (plane.self().acceptsOtherHosts()) {
      frames.put(Transport.UDP.label(), plane.framesReceived(Transport.UDP));
    }
    Map<String, String> links = new TreeMap<>();
    plane.linkTransports().forEach((peer, transport) -> links.put(peer, transport.label()));
    return new DataPlaneMetrics(jobId, memberId, plane.drops().total(), plane.drops().toString(), plane.host(),
        frames, links);
  }

  private static MemberRole role(Args a, JobConfig job, ClusterSettings cluster) {
    return switch (a.role()) {
      case COORDINATOR -> new MemberRole.Coordinator(job, cluster);
      case "shard" -> MemberRole.shard(a, job, cluster);
      case "feeder" -> MemberRole.feeder(a, job, cluster);
      case "worker" -> MemberRole.worker(a, job, cluster);
      default -> throw new UserError("unknown member role '" + a.role() + "': coordinator, shard, feeder or worker");
    };
  }

}
