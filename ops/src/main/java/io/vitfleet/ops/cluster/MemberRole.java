package io.vitfleet.ops.cluster;

import io.vitfleet.coordinator.plan.ChunkSharding;
import io.vitfleet.feeder.BatchPlan;
import io.vitfleet.feeder.DatasetException;
import io.vitfleet.feeder.FashionMnist;
import io.vitfleet.feeder.Normalization;
import io.vitfleet.feeder.TrainingBatches;
import io.vitfleet.feeder.actor.FeederActor;
import io.vitfleet.feeder.actor.FeederSettings;
import io.vitfleet.model.ViTParameters;
import io.vitfleet.ops.train.JobConfig;
import io.vitfleet.ops.train.LocalOptimizer;
import io.vitfleet.paramstore.shard.ShardActor;
import io.vitfleet.paramstore.shard.ShardInbox;
import io.vitfleet.paramstore.shard.ShardSettings;
import io.vitfleet.paramstore.store.ShardStore;
import io.vitfleet.paramstore.store.ShardStoreException;
import io.vitfleet.protocol.ParameterManifest;
import io.vitfleet.protocol.control.ControlMessage;
import io.vitfleet.protocol.control.Endpoint;
import io.vitfleet.protocol.link.DataPlane;
import io.vitfleet.worker.TensorMailbox;
import io.vitfleet.worker.WorkerActor;
import io.vitfleet.worker.WorkerSettings;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;

/**
 * What one member process runs: its role's actor and data plane, prepared before the actor system starts so that a
 * missing data set, an unloadable TensorFlow or a shard store of another job stops the process with a clear message
 * and its own exit code.
 */
abstract class MemberRole implements AutoCloseable {

  /** A role that cannot start; {@link #exitCode} tells the launcher which kind of problem. */
  static final class RoleFailure extends RuntimeException {
    private final int exitCode;

    RoleFailure(int exitCode, String message, Throwable cause) {
      super(message, cause);
      this.exitCode = exitCode;
    }

    int exitCode() {
      return exitCode;
    }
  }

  private final JobConfig job;
  private final ClusterSettings cluster;

  MemberRole(JobConfig job, ClusterSettings cluster) {
    this.job = job;
    this.cluster = cluster;
  }

  JobConfig job() {
    return job;
  }

  ClusterSettings cluster() {
    return cluster;
  }

  /** Spawns the role's actor (which registers itself with the Receptionist under {@link NodeMain#MEMBERS}). */
  abstract void start(ActorContext<Void> ctx, ActorRef<ControlMessage> coordinator);

  /** The member's data plane, or null (the coordinator has none). */
  abstract DataPlane dataPlane();

  @Override
  public void close() {
    DataPlane p = dataPlane();
    if (p != null) {
      p.close();
    }
  }

  /** The member's host identity: the one its launcher gave it (a simulated host), else this machine's. */
  private static String host(NodeMain.Args a, ClusterSettings cluster) {
    return a.host() != null ? a.host() : cluster.host();
  }

  /**
   * Where the member's data plane listens: IPC on its host, and UDP on the configured address and the port its
   * launcher handed out when UDP is on.
   */
  static Endpoint endpoint(NodeMain.Args a, ClusterSettings cluster) {
    if (cluster.usesUdp() && a.udpPort() <= 0) {
      throw new RoleFailure(NodeMain.EXIT_CONFIG, "UDP is on (" + ClusterSettings.ROOT + ".udp.enabled or "
          + "simulated-hosts > 1) but --udp-port is missing: start members through `vitfleet up`", null);
    }
    String udp = a.udpPort() > 0 ? cluster.udp().address() + ":" + a.udpPort() : null;
    return DataPlane.endpoint(a.id(), a.stream(), host(a, cluster), udp, cluster.udp().mtu());
  }

  private static DataPlane connect(NodeMain.Args a, ClusterSettings cluster, long jobId,
      Consumer<DataPlane.Tensor> sink) {
    if (a.aeronDir() == null) {
      throw new RoleFailure(NodeMain.EXIT_CONFIG, "--aeron-dir is missing: members need the host's media driver",
          null);
    }
    try {
      return DataPlane.connect(a.aeronDir(), endpoint(a, cluster), jobId, sink);
    } catch (DataPlane.UdpBindException e) {
      throw new RoleFailure(NodeMain.EXIT_CONFIG, ClusterLauncher.udpBindAdvice(e.endpoint(), e.reason(),
          e.portInUse(), cluster.udp()), e);
    } catch (IllegalStateException e) {
      throw new RoleFailure(NodeMain.EXIT_CONFIG, e.getMessage(), e);
    }
  }

  /** A role with a data plane whose actor is spawned by {@code spawn}, named by the member id. */
  private static final class ActorRole extends MemberRole {
    private final DataPlane plane;
    private final Function<ActorRef<ControlMessage>, Behavior<?>> behavior;
    private final String id;

    ActorRole(JobConfig job, ClusterSettings cluster, String id, DataPlane plane,
              Function<ActorRef<ControlMessage>, Behavior<?>> behavior) {
      super(job, cluster);
      this.id = id;
      this.plane = plane;
      this.behavior = behavior;
    }

    @Override
    void start(ActorContext<Void> ctx, ActorRef<ControlMessage> coordinator) {
      ctx.spawn(behavior.apply(coordinator), id);
    }

    @Override
    DataPlane dataPlane() {
      return plane;
    }
  }

  /** The coordinator: the singleton runs here; nothing else. */
  static final class Coordinator extends MemberRole {
    Coordinator(JobConfig job, ClusterSettings cluster) {
      super(job, cluster);
    }

    @Override
    void start(ActorContext<Void> ctx, ActorRef<ControlMessage> coordinator) {
    }

    @Override
    DataPlane dataPlane() {
      return null;
    }
  }

  static MemberRole shard(NodeMain.Args a, JobConfig job, ClusterSettings cluster) {
    if (a.shardIndex() < 0 || a.shardIndex() >= cluster.shards()) {
      throw new RoleFailure(NodeMain.EXIT_CONFIG, "--shard-index " + a.shardIndex() + " is outside 0.."
          + (cluster.shards() - 1), null);
    }
    ParameterManifest manifest = ViTParameters.manifest(job.model());
    int[] owned = ShardSettings.ownedBy(ChunkSharding.assign(manifest, cluster.shards()), a.shardIndex());
    ShardSettings s = new ShardSettings(a.shardIndex(), a.id(), job.fingerprint(), manifest, owned,
        () -> ViTParameters.initialise(job.model(), manifest, job.seed()), LocalOptimizer.config(job), 1,
        ShardExport.storeFile(a.runDir(), a.shardIndex()), job.steps());
    // Open (and recover) the store once here, so a store of another job or beyond repair exits with its own code.
    try (ShardStore store = ShardStore.open(s.storeFile(), s.jobId(), s.shardManifest())) {
      System.err.println(a.id() + ": store " + s.storeFile() + " at step " + store.committedStep()
          + (store.preparedStep() >= 0 ? ", step " + store.preparedStep() + " prepared" : ""));
    } catch (ShardStoreException e) {
      throw new RoleFailure(NodeMain.EXIT_STORE, e.getMessage(), e);
    }
    ShardInbox inbox = new ShardInbox();
    DataPlane plane = connect(a, cluster, job.fingerprint(), inbox);
    return new ActorRole(job, cluster, a.id(), plane,
        coordinator -> ShardActor.create(s, coordinator, plane, inbox, NodeMain.MEMBERS));
  }

  static MemberRole feeder(NodeMain.Args a, JobConfig job, ClusterSettings cluster) {
    TrainingBatches batches;
    try {
      batches = TrainingBatches.of(FashionMnist.train(job.dataDir()), Normalization.minusOneToOne(), job.seed(),
          new BatchPlan(job.globalBatch(), job.microbatch(), job.groups()),
          job.job().getInt("data.augment.max_shift"), job.job().getBoolean("data.augment.flip"));
    } catch (DatasetException e) {
      throw new RoleFailure(NodeMain.EXIT_CONFIG, e.getMessage(), e);
    }
    FeederSettings s = new FeederSettings(a.id(), job.fingerprint(), a.stream(), a.aeronDir());
    DataPlane plane = connect(a, cluster, job.fingerprint(), t -> { });
    return new ActorRole(job, cluster, a.id(), plane,
        coordinator -> FeederActor.create(s, batches, coordinator, plane, NodeMain.MEMBERS));
  }

  static MemberRole worker(NodeMain.Args a, JobConfig job, ClusterSettings cluster) {
    try {
      org.tensorflow.TensorFlow.version();
    } catch (Throwable e) {
      throw new RoleFailure(NodeMain.EXIT_TENSORFLOW, "TensorFlow cannot be loaded on this host (" + e
          + "); install the native library for linux-x86_64 (tensorflow-core-native) or run the worker elsewhere",
          e);
    }
    WorkerSettings s = new WorkerSettings(a.id(), job.fingerprint(), job.model(), job.globalBatch(),
        job.microbatch(), job.groups(), job.threads(),
        ClusterLauncher.heapBytes("worker-heap", cluster.workerHeap()), host(a, cluster),
        a.aeronDir(), a.stream(), WorkerSettings.DEFAULT_RECEIVE_TIMEOUT);
    TensorMailbox mailbox = new TensorMailbox();
    DataPlane plane = connect(a, cluster, job.fingerprint(), mailbox);
    return new ActorRole(job, cluster, a.id(), plane,
        coordinator -> WorkerActor.create(s, coordinator, mailbox, plane, NodeMain.MEMBERS));
  }
}
