package io.vitfleet.paramstore.shard;

import io.vitfleet.paramstore.Adafactor;
import io.vitfleet.paramstore.FlatFloats;
import io.vitfleet.paramstore.OptimizerState;
import io.vitfleet.paramstore.store.ShardStore;
import io.vitfleet.protocol.ParameterManifest;
import io.vitfleet.protocol.control.Abort;
import io.vitfleet.protocol.control.Begin;
import io.vitfleet.protocol.control.Commit;
import io.vitfleet.protocol.control.Committed;
import io.vitfleet.protocol.control.ControlMessage;
import io.vitfleet.protocol.control.Endpoint;
import io.vitfleet.protocol.control.GlobalNorm;
import io.vitfleet.protocol.control.Hello;
import io.vitfleet.protocol.control.Install;
import io.vitfleet.protocol.control.JobScoped;
import io.vitfleet.protocol.control.NormPartial;
import io.vitfleet.protocol.control.Plan;
import io.vitfleet.protocol.control.Prepared;
import io.vitfleet.protocol.control.Ready;
import io.vitfleet.protocol.control.ShardState;
import io.vitfleet.protocol.frame.FrameKind;
import io.vitfleet.protocol.link.DataPlane;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * A parameter-store shard of the cluster (docs/cluster.md): it owns some tensors of the model — their fp32
 * parameters and Adafactor state, durable in a {@link ShardStore} — and each step sends their committed parameters to
 * the workers of the stages that hold them, sums the workers' group sums in group order ({@link GroupReducer}),
 * reports their squared norms, applies the optimizer with the coordinator's global norm, stages the result durably and
 * votes prepared, and commits when told. The result is bit for bit the one-process trainer's.
 *
 * <p>Threads: the actor's own runs the protocol and the reduction of group sums (one float add per element and group,
 * as they arrive); a sender thread streams parameters out ({@link ParameterSender}); an optimizer thread runs the
 * update and every store write (stage, commit, abort), whose results come back as messages, so the actor answers
 * heartbeats and aborts while they run. Once started, the actor touches the store only through that thread. The
 * committed parameters and state are kept in memory (the store is read only when the shard starts, or when it
 * commits a step it found prepared after a restart) and are never changed in place: an update works on a copy, which
 * becomes the committed copy at commit.
 *
 * <p>Parameters go out ahead of Begin: a shard that commits step t + 1 under its installed plan streams t + 1's
 * parameters to that plan's workers right away (before answering Committed), so they already wait in the workers'
 * mailboxes when Begin(t + 1) arrives; Begin then sends nothing again for the same (step, plan version). Only
 * committed parameters ever leave the shard, and a plan re-installed after an abort has a new version, so it gets
 * its parameters at its Begin.
 *
 * <p>A bad or untimely message is logged and dropped, never fatal. A store that cannot be opened (another job's file,
 * two damaged entries) stops the actor at start with the store's message.
 */
public final class ShardActor {
  /** How often the shard says {@link Hello}: the coordinator's heartbeat and (re-)introduction (cluster.md). */
  public static final Duration HELLO_INTERVAL = Duration.ofSeconds(1);
  /**
   * Control messages held while a store write is in flight (they are handled once it is done). The coordinator sends
   * a handful per step; more than this means something loops, and the excess is dropped with an error.
   */
  private static final int STASH_CAPACITY = 1_000;
  /** How long stopping waits for a store write in flight (a large stage) before closing the store regardless. */
  private static final long STOP_WAIT_SECONDS = 120;

  // ---- what it accepts -------------------------------------------------------------------------------------------

  /** What the shard accepts; control-plane messages arrive through its adapter, as {@code FromControlPlane}. */
  public sealed interface Command {
  }

  private record FromControlPlane(ControlMessage message) implements Command {
  }

  /** The inbox holds received tensors to drain. */
  private enum TensorsArrived implements Command {
    INSTANCE
  }

  private enum HelloTick implements Command {
    INSTANCE
  }

  /** The sender finished (or stopped, or failed) sending the parameters of one step attempt. */
  private record ParametersSent(long batch, long step, int tensors, Throwable failure) implements Command {
  }

  /** The optimizer thread updated and staged step {@code step} (t + 1), or failed to. */
  private record Staged(long attempt, long step, int planVersion, Staging.Work work, Throwable failure)
      implements Command {
  }

  /** The optimizer thread committed step {@code step}, or failed to. */
  private record CommitDone(long step, int planVersion, Weights weights, Throwable failure) implements Command {
  }

  /** The optimizer thread could not drop the prepared step. */
  private record AbortFailed(Throwable failure) implements Command {
  }

  // ---- what state it keeps ---------------------------------------------------------------------------------------

  /** One step's parameters and optimizer state, shard manifest; never modified once built. */
  private record Weights(long step, FlatFloats params, OptimizerState state) {
  }

  /** One owned tensor sent to one worker each step. */
  private record Route(int stage, Endpoint worker, int tensorId, int local) {
  }

  /** An accepted Install: the plan, its number of accumulation groups, and where each owned tensor goes. */
  private record Installed(Install install, int groups, List<Route> routes) {
    int version() {
      return install.plan().version();
    }
  }

  /** Where the shard is in the step protocol. Every phase but the first has a plan installed. */
  private sealed interface Phase {
  }

  /** No plan (just started, or after an Abort): steps cannot begin; a prepared step can still be committed. */
  private record AwaitingInstall() implements Phase {
  }

  /** A plan is in force; the committed step may begin. Group sums of that step arriving early are kept. */
  private record Planned(Installed plan, GroupReducer reducer) implements Phase {
  }

  /** Step {@code step} has begun: parameters are going out, group sums coming in. */
  private record Collecting(Installed plan, long step, long attempt, GroupReducer reducer) implements Phase {
  }

  /** All group sums are in and reduced, NormPartial is sent: waiting for the global norm. */
  private record AwaitingNorm(Installed plan, long step, long attempt, FlatFloats grads) implements Phase {
  }

  /** The optimizer thread is updating and staging step + 1; control messages other than Abort wait. */
  private record Staging(Installed plan, long step, long attempt) implements Phase {
    /** What the optimizer thread produced, and how long its update and its durable stage took (for the step log). */
    record Work(Weights weights, long updateNanos, long stageNanos) {
    }
  }

  /** Step {@code step} (t + 1) is staged durably and voted prepared; {@code staged} is null after a failed commit. */
  private record Voted(Installed plan, long step, Weights staged) implements Phase {
  }

  /** The optimizer thread is committing step {@code step}; control messages wait. {@code plan} may be null. */
  private record Committing(Installed plan, long step) implements Phase {
  }

  private final ActorContext<Command> context;
  private final StashBuffer<Command> stash;
  private final ShardSettings settings;
  private final ActorRef<ControlMessage> coordinator;
  private final DataPlane dataPlane;
  private final ShardInbox inbox;
  private final ActorRef<ControlMessage> control;
  private final ParameterManifest shardManifest;
  private final int[] owned;
  /** Model-manifest index -> shard-local index. */
  private final Map<Integer, Integer> localIndex = new HashMap<>();
  private final int[] sizes;
  private final ShardStore store;
  /** The optimizer of the update, used on the optimizer thread only. */
  private final Adafactor optimizer;
  /** The same optimizer's squared norms, on the actor's thread (an Adafactor is used by one thread). */
  private final Adafactor norms;
  private final ExecutorService optimizerThread;
  private final ParameterSender sender;

  /** The committed step, in memory. Replaced at each commit, never modified. */
  private Weights committed;
  /** The step staged durably and not committed, or {@link ShardState#NONE}; what Hello reports. */
  private long preparedStep;
  /** Step attempts begun so far: results of an earlier attempt (after an Abort or a new plan) are ignored. */
  private long attempts;
  /** Parameter batches handed to the sender so far; a newer batch stops an older one. */
  private long parameterBatches;
  /** The (step, plan version) whose parameters were last handed to the sender, or -1 / -1 after a cancel. */
  private long sentStep = -1;
  private int sentPlanVersion = -1;
  /** When the current step passed each point of the protocol, for its log line. */
  private final StepTiming timing = new StepTiming();

  /** Points of one step in System.nanoTime, on the actor's thread; logged at commit. */
  private final class StepTiming {
    long begin;
    long reduced;
    long norm;
    long staged;
    long commit;
    long updateNanos;
    long stageNanos;

    void log(long step) {
      if (!context.getLog().isDebugEnabled()) {
        return;
      }
      long now = System.nanoTime();
      context.getLog().debug("{}: step {} committed; ms from Begin: reduced {}, norm {}, staged {} (update {}, stage "
              + "{}), commit {} (commit write {})", settings.memberId(), step, ms(reduced - begin), ms(norm - begin),
          ms(staged - begin), ms(updateNanos), ms(stageNanos), ms(commit - begin), ms(now - commit));
    }

    private String ms(long nanos) {
      return String.format("%.1f", nanos / 1e6);
    }
  }

  private ShardActor(ActorContext<Command> context, StashBuffer<Command> stash, ShardSettings settings,
                     ActorRef<ControlMessage> coordinator, DataPlane dataPlane, ShardInbox inbox,
                     ActorRef<ControlMessage> control) {
    this.context = context;
    this.stash = stash;
    this.settings = settings;
    this.coordinator = coordinator;
    this.dataPlane = dataPlane;
    this.inbox = inbox;
    this.control = control;
    this.shardManifest = settings.shardManifest();
    this.owned = settings.ownedTensors();
    this.sizes = new int[owned.length];
    for (int i = 0; i < owned.length; i++) {
      localIndex.put(owned[i], i);
      sizes[i] = (int) shardManifest.get(i).size();
    }
    this.optimizer = new Adafactor(settings.optimizer(), shardManifest, settings.optimizerThreads());
    this.norms = new Adafactor(settings.optimizer(), shardManifest);
    this.store = openStore();
    try {
      this.committed = new Weights(store.committedStep(), store.committedParams(), store.committedState());
      if (committed.state().minDimToFactor() != settings.optimizer().minDimToFactor()) {
        throw new IllegalStateException(settings.memberId() + ": the state in " + store.file() + " was factored "
            + "with min_dim_to_factor " + committed.state().minDimToFactor() + " but the job's optimizer says "
            + settings.optimizer().minDimToFactor() + "; a resumed run must keep the factoring it started with");
      }
      this.preparedStep = store.preparedStep();
    } catch (RuntimeException e) {
      store.close();
      throw e;
    }
    String name = settings.memberId();
    this.optimizerThread = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, name + "-optimizer");
      t.setDaemon(true);
      return t;
    });
    this.sender = new ParameterSender(dataPlane, name + "-sender");
  }

  /**
   * The shard of {@code settings}: opens (or creates) its store, then introduces itself to {@code coordinator}.
   *
   * @param coordinator where Hello and the shard's votes go: in a cluster, the coordinator singleton's proxy
   * @param dataPlane the shard's own data plane, connected with {@code inbox} as its sink; the caller closes it after
   *     the actor stopped
   * @param inbox the sink of {@code dataPlane}: received tensors wait there for the actor
   */
  public static Behavior<Command> create(ShardSettings settings, ActorRef<ControlMessage> coordinator,
                                         DataPlane dataPlane, ShardInbox inbox) {
    return create(settings, coordinator, dataPlane, inbox, null);
  }

  /**
   * As {@link #create(ShardSettings, ActorRef, DataPlane, ShardInbox)}, and registers the shard's control reference
   * (the one its Hello carries) with the Receptionist under {@code memberKey} when that is not null.
   */
  public static Behavior<Command> create(ShardSettings settings, ActorRef<ControlMessage> coordinator,
                                         DataPlane dataPlane, ShardInbox inbox, ServiceKey<ControlMessage> memberKey) {
    if (dataPlane.jobId() != settings.jobId()) {
      throw new IllegalArgumentException(settings.memberId() + " is set up for job 0x"
          + Long.toHexString(settings.jobId()) + " but its data plane for job 0x"
          + Long.toHexString(dataPlane.jobId()));
    }
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> Behaviors.withStash(STASH_CAPACITY, stash -> {
      ActorRef<ControlMessage> control = context.messageAdapter(ControlMessage.class, FromControlPlane::new);
      ShardActor shard;
      try {
        shard = new ShardActor(context, stash, settings, coordinator, dataPlane, inbox, control);
      } catch (RuntimeException e) {
        inbox.close();
        context.getLog().error("{}: cannot start: {}", settings.memberId(), e.getMessage());
        throw e;
      }
      if (memberKey != null) {
        context.getSystem().receptionist().tell(Receptionist.register(memberKey, control));
      }
      return shard.start(timers);
    })));
  }

  private ShardStore openStore() {
    ShardStore s = ShardStore.open(settings.storeFile(), settings.jobId(), shardManifest);
    try {
      ShardStore.OpenReport r = s.openReport();
      if (!s.isInitialised()) {
        initialise(s);
      }
      context.getLog().info("{}: store {} open at committed step {}, prepared step {} ({} tensors, {} parameters; "
              + "rebuilt {} entries, commit records rewritten: {}, discarded: {})", settings.memberId(),
          s.file(), s.committedStep(), s.preparedStep(), shardManifest.count(), shardManifest.totalSize(),
          r.entriesRebuilt(), r.commitRecordsRewritten(), r.discarded());
      return s;
    } catch (RuntimeException e) {
      s.close();
      throw e;
    }
  }

  /** A new store: step 0 is the owned slices of the model's initial parameters and a zero optimizer state. */
  private void initialise(ShardStore s) {
    float[] all = settings.initialParams().get();
    ParameterManifest model = settings.modelManifest();
    if (all == null || all.length != model.totalSize()) {
      throw new IllegalArgumentException(settings.memberId() + ": the initial parameters have "
          + (all == null ? "no data" : all.length + " floats") + " but the model's manifest " + model + " needs "
          + model.totalSize());
    }
    float[][] slices = new float[owned.length][];
    for (int i = 0; i < owned.length; i++) {
      int from = (int) model.offset(owned[i]);
      slices[i] = Arrays.copyOfRange(all, from, from + sizes[i]);
    }
    s.initialise(0, FlatFloats.ofTensors(shardManifest, slices),
        OptimizerState.zeros(shardManifest, settings.optimizer().minDimToFactor()));
  }

  private Behavior<Command> start(TimerScheduler<Command> timers) {
    ActorRef<Command> self = context.getSelf();
    inbox.bind(() -> self.tell(TensorsArrived.INSTANCE));
    hello();
    timers.startTimerWithFixedDelay(HelloTick.INSTANCE, HELLO_INTERVAL);
    return behavior(new AwaitingInstall());
  }

  // ---- how it behaves --------------------------------------------------------------------------------------------

  /** The behaviour of {@code phase}: every phase accepts every message; the handlers decide by phase. */
  private Behavior<Command> behavior(Phase phase) {
    return Behaviors.receive(Command.class)
        .onMessage(FromControlPlane.class, m -> safely(m.message(), () -> onControl(phase, m.message())))
        .onMessageEquals(TensorsArrived.INSTANCE, () -> onTensors(phase))
        .onMessageEquals(HelloTick.INSTANCE, () -> {
          hello();
          return Behaviors.same();
        })
        .onMessage(ParametersSent.class, this::onParametersSent)
        .onMessage(Staged.class, m -> safely(m, () -> onStaged(phase, m)))
        .onMessage(CommitDone.class, m -> safely(m, () -> onCommitDone(phase, m)))
        .onMessage(AbortFailed.class, m -> {
          context.getLog().error("{}: dropping the prepared step failed; a restarted shard may report it prepared "
              + "until the next stage replaces it", settings.memberId(), m.failure());
          return Behaviors.same();
        })
        .onSignal(PostStop.class, signal -> {
          stop();
          return Behaviors.same();
        })
        .build();
  }

  private Behavior<Command> onControl(Phase phase, ControlMessage message) {
    if (!ofThisJob(message)) {
      return Behaviors.same();
    }
    boolean storeBusy = phase instanceof Committing || (phase instanceof Staging && !(message instanceof Abort));
    if (storeBusy) {
      if (stash.isFull()) {
        context.getLog().error("{}: {} dropped: {} control messages already wait for a store write",
            settings.memberId(), message, STASH_CAPACITY);
      } else {
        stash.stash(new FromControlPlane(message));
      }
      return Behaviors.same();
    }
    if (message instanceof Install install) {
      return onInstall(phase, install);
    }
    if (message instanceof Begin begin) {
      return onBegin(phase, begin);
    }
    if (message instanceof GlobalNorm norm) {
      return onGlobalNorm(phase, norm);
    }
    if (message instanceof Commit commit) {
      return onCommit(phase, commit);
    }
    if (message instanceof Abort abort) {
      return onAbort(phase, abort);
    }
    context.getLog().warn("{}: unexpected {}; ignored", settings.memberId(), message);
    return Behaviors.same();
  }

  /**
   * Installs the plan and answers Ready; or refuses it, loudly and without Ready, when its shard assignment
   * disagrees with this shard's tensors (the coordinator and this member were configured for different layouts).
   * A prepared step stays prepared: the coordinator may still commit it under the new plan.
   */
  private Behavior<Command> onInstall(Phase phase, Install install) {
    int version = install.plan().version();
    Installed current = planOf(phase);
    if (current != null && current.version() == version) {
      // The next Begin sends the parameters again, whatever went out ahead: an Install is rare, a second copy of a
      // tensor only replaces the first in a worker's mailbox, and a worker re-prepared for this plan may lack them.
      sentStep = -1;
      sentPlanVersion = -1;
      coordinator.tell(new Ready(settings.jobId(), version, settings.memberId()));
      return Behaviors.same();
    }
    Installed installed;
    try {
      installed = install(install);
    } catch (IllegalArgumentException e) {
      context.getLog().error("{}: REFUSING plan {}: {}. No Ready is sent; fix the cluster's configuration "
          + "(shard count, model) so that coordinator and shards agree.", settings.memberId(), version, e.getMessage());
      return Behaviors.same();
    }
    if (!(phase instanceof AwaitingInstall || phase instanceof Planned || phase instanceof Voted)) {
      context.getLog().warn("{}: plan {} replaces plan {} in the middle of a step; the step's data is dropped",
          settings.memberId(), version, current == null ? "-" : current.version());
      attempts++;
      cancelParameters();
    }
    dataPlane.acceptPlan(version);
    coordinator.tell(new Ready(settings.jobId(), version, settings.memberId()));
    context.getLog().info("{}: plan {} installed from step {} (committed {}, prepared {}; {} groups, {} tensors "
            + "to send per step)", settings.memberId(), version, install.step(), committed.step(), preparedStep,
        installed.groups(), installed.routes().size());
    if (phase instanceof Voted voted) {
      return behavior(new Voted(installed, voted.step(), voted.staged()));
    }
    return behavior(new Planned(installed, new GroupReducer(sizes, installed.groups())));
  }

  /** The plan of {@code install} checked against this shard; throws IllegalArgumentException saying what is wrong. */
  private Installed install(Install install) {
    Plan plan = install.plan();
    ParameterManifest model = settings.modelManifest();
    if (plan.chunkShards().size() != model.count()) {
      throw new IllegalArgumentException("the plan assigns " + plan.chunkShards().size() + " chunks to shards but the "
          + "model has " + model.count() + " tensors");
    }
    int[] assigned = ShardSettings.ownedBy(plan.chunkShards(), settings.shard());
    if (!Arrays.equals(assigned, owned)) {
      throw new IllegalArgumentException("the plan gives shard " + settings.shard() + " tensors "
          + Arrays.toString(assigned) + " but this shard owns " + Arrays.toString(owned));
    }
    Set<Integer> groups = new HashSet<>();
    for (Plan.ReplicaGroups rg : plan.replicaGroups()) {
      groups.addAll(rg.groups());
    }
    for (int g = 0; g < groups.size(); g++) {
      if (!groups.contains(g)) {
        throw new IllegalArgumentException("the plan's groups " + groups + " are not 0 .. G-1");
      }
    }
    List<Plan.WorkerAssignment> workers = new ArrayList<>(plan.workers());
    workers.sort(Comparator.comparingInt(Plan.WorkerAssignment::stage)
        .thenComparingInt(Plan.WorkerAssignment::replica));
    List<Route> routes = new ArrayList<>();
    for (Plan.WorkerAssignment w : workers) {
      Endpoint endpoint = install.endpointOf(w.workerId());
      for (int tensor : install.stageTensors().get(w.stage())) {
        if (tensor < 0 || tensor >= model.count()) {
          throw new IllegalArgumentException("stage " + w.stage() + " lists tensor " + tensor + ", outside the "
              + model.count() + "-tensor manifest");
        }
        Integer local = localIndex.get(tensor);
        if (local != null) {
          routes.add(new Route(w.stage(), endpoint, tensor, local));
        }
      }
    }
    return new Installed(install, groups.size(), List.copyOf(routes));
  }

  /**
   * Begins step t: t must be the committed step; sends the parameters and starts collecting group sums. A step t + 1
   * still prepared is dropped: the coordinator begins t again only when t + 1 committed nowhere.
   */
  private Behavior<Command> onBegin(Phase phase, Begin begin) {
    long t = begin.step();
    if (phase instanceof Collecting c && c.step() == t && c.plan().version() == begin.planVersion()) {
      return Behaviors.same();
    }
    if (phase instanceof Voted v && v.plan() != null && v.plan().version() == begin.planVersion()) {
      phase = new Planned(v.plan(), new GroupReducer(sizes, v.plan().groups()));
    }
    if (!(phase instanceof Planned ready) || ready.plan().version() != begin.planVersion()) {
      context.getLog().warn("{}: Begin of step {} under plan {} ignored: {}", settings.memberId(), t,
          begin.planVersion(), describe(phase));
      return Behaviors.same();
    }
    if (t != committed.step()) {
      context.getLog().warn("{}: Begin of step {} ignored: this shard's committed step is {}", settings.memberId(), t,
          committed.step());
      return Behaviors.same();
    }
    if (t >= settings.totalSteps()) {
      context.getLog().warn("{}: Begin of step {} ignored: the job has {} steps", settings.memberId(), t,
          settings.totalSteps());
      return Behaviors.same();
    }
    if (preparedStep == t + 1) {
      context.getLog().info("{}: dropping prepared step {}: step {} begins again", settings.memberId(), t + 1, t);
      dropPrepared();
    }
    long attempt = ++attempts;
    if (sentStep != t || sentPlanVersion != begin.planVersion()) {
      sendParameters(ready.plan(), t);
    }
    timing.begin = System.nanoTime();
    Collecting collecting = new Collecting(ready.plan(), t, attempt, ready.reducer());
    return behavior(collecting.reducer().complete() ? reduced(collecting) : collecting);
  }

  /** Streams the committed parameters (step {@code t}) to the workers of {@code plan}, on the sender's thread. */
  private void sendParameters(Installed plan, long t) {
    List<ParameterSender.Send> sends = new ArrayList<>(plan.routes().size());
    FlatFloats params = committed.params();
    for (Route r : plan.routes()) {
      sends.add(new ParameterSender.Send(r.worker(), r.stage(), r.tensorId(), shardManifest.get(r.local()).shape(),
          params.array(r.local()), params.offset(r.local()), sizes[r.local()]));
    }
    long batch = ++parameterBatches;
    sentStep = t;
    sentPlanVersion = plan.version();
    context.pipeToSelf(sender.send(batch, t, plan.version(), sends),
        (sent, failure) -> new ParametersSent(batch, t, sent == null ? 0 : sent, failure));
  }

  /** Stops the parameters being sent; the next Begin sends them again. */
  private void cancelParameters() {
    sender.cancel();
    sentStep = -1;
    sentPlanVersion = -1;
  }

  private Behavior<Command> onParametersSent(ParametersSent m) {
    if (m.failure() != null) {
      if (m.batch() == parameterBatches) {
        // Sent ahead of Begin: the Begin still to come sends them again.
        sentStep = -1;
        sentPlanVersion = -1;
      }
      context.getLog().warn("{}: sending the parameters of step {} failed after {} tensors: {}; the step cannot "
          + "complete until the coordinator aborts it", settings.memberId(), m.step(), m.tensors(),
          rootMessage(m.failure()));
    } else {
      context.getLog().debug("{}: {} parameter tensors of step {} sent", settings.memberId(), m.tensors(), m.step());
    }
    return Behaviors.same();
  }

  /** Takes every tensor the data plane delivered; moves on to the norm once the step's group sums are all in. */
  private Behavior<Command> onTensors(Phase phase) {
    Phase[] current = {phase};
    inbox.drainTo(t -> {
      try {
        current[0] = onTensor(current[0], t);
      } catch (RuntimeException e) {
        context.getLog().error("{}: failed handling a {} of step {}, group {}, tensor {}; dropped",
            settings.memberId(), t.kind(), t.step(), t.index(), t.tensorId(), e);
      }
    });
    return current[0] == phase ? Behaviors.same() : behavior(current[0]);
  }

  private Phase onTensor(Phase phase, DataPlane.Tensor t) {
    if (t.kind() != FrameKind.WEIGHT_GRAD_GROUP_SUM) {
      context.getLog().warn("{}: a {} frame (step {}, tensor {}) reached a shard; dropped", settings.memberId(),
          t.kind(), t.step(), t.tensorId());
      return phase;
    }
    GroupReducer reducer;
    long step;
    int version;
    if (phase instanceof Planned r) {
      reducer = r.reducer();
      step = committed.step();
      version = r.plan().version();
    } else if (phase instanceof Collecting c) {
      reducer = c.reducer();
      step = c.step();
      version = c.plan().version();
    } else {
      context.getLog().debug("{}: group sum of step {}, group {}, tensor {} dropped: {}", settings.memberId(),
          t.step(), t.index(), t.tensorId(), describe(phase));
      return phase;
    }
    if (t.step() != step || t.planVersion() != version) {
      context.getLog().debug("{}: group sum of step {} (plan {}) dropped: collecting step {} of plan {}",
          settings.memberId(), t.step(), t.planVersion(), step, version);
      return phase;
    }
    Integer local = localIndex.get(t.tensorId());
    String problem = local == null ? "tensor " + t.tensorId() + " is not owned by this shard"
        : t.floats() == null ? "it is not float32"
        : !Arrays.equals(t.shape(), shardManifest.get(local).shape()) ? "its shape " + Arrays.toString(t.shape())
            + " is not the tensor's " + Arrays.toString(shardManifest.get(local).shape())
        : reducer.add(local, t.index(), t.floats());
    if (problem != null) {
      context.getLog().warn("{}: group sum of step {}, group {}, tensor {} dropped: {}", settings.memberId(),
          t.step(), t.index(), t.tensorId(), problem);
      return phase;
    }
    if (phase instanceof Collecting c && reducer.complete()) {
      return reduced(c);
    }
    return phase;
  }

  /** All group sums are in: report each tensor's squared norm (numpy's pairwise order, as the one process does). */
  private Phase reduced(Collecting c) {
    timing.reduced = System.nanoTime();
    FlatFloats grads = FlatFloats.ofTensors(shardManifest, c.reducer().totals());
    double[] squared = norms.squaredNorms(grads);
    coordinator.tell(new NormPartial(settings.jobId(), c.step(), c.plan().version(), settings.shard(), owned,
        squared));
    return new AwaitingNorm(c.plan(), c.step(), c.attempt(), grads);
  }

  /** Applies the optimizer at count t with the global norm and stages t + 1, on the optimizer thread. */
  private Behavior<Command> onGlobalNorm(Phase phase, GlobalNorm message) {
    if (!(phase instanceof AwaitingNorm a) || a.step() != message.step()
        || a.plan().version() != message.planVersion()) {
      context.getLog().warn("{}: GlobalNorm of step {} under plan {} ignored: {}", settings.memberId(),
          message.step(), message.planVersion(), describe(phase));
      return Behaviors.same();
    }
    double norm = message.norm();
    if (!Double.isFinite(norm)) {
      context.getLog().error("{}: the global norm of step {} is {} (non-finite gradients); not voting prepared, the "
          + "coordinator will abort the step", settings.memberId(), a.step(), norm);
      return Behaviors.same();
    }
    Weights base = committed;
    long t = a.step();
    int version = a.plan().version();
    long attempt = a.attempt();
    FlatFloats grads = a.grads();
    timing.norm = System.nanoTime();
    CompletableFuture<Staging.Work> work = CompletableFuture.supplyAsync(() -> {
      long from = System.nanoTime();
      FlatFloats params = copy(base.params());
      OptimizerState state = base.state().copy();
      optimizer.update(params, grads, state, t, norm);
      long updated = System.nanoTime();
      store.stage(t + 1, version, params, state);
      return new Staging.Work(new Weights(t + 1, params, state), updated - from, System.nanoTime() - updated);
    }, optimizerThread);
    context.pipeToSelf(work, (w, failure) -> new Staged(attempt, t + 1, version, w, failure));
    return behavior(new Staging(a.plan(), t, attempt));
  }

  /** Step t + 1 is durable: vote prepared. */
  private Behavior<Command> onStaged(Phase phase, Staged m) {
    if (!(phase instanceof Staging s) || s.attempt() != m.attempt()) {
      // Aborted meanwhile: the abort queued behind the stage drops it from the store.
      return Behaviors.same();
    }
    if (m.failure() != null) {
      context.getLog().error("{}: step {} could not be updated and staged; not voting prepared, the coordinator will "
          + "abort the step", settings.memberId(), m.step(), m.failure());
      return stash.unstashAll(behavior(new Planned(s.plan(), new GroupReducer(sizes, s.plan().groups()))));
    }
    preparedStep = m.step();
    timing.staged = System.nanoTime();
    timing.updateNanos = m.work().updateNanos();
    timing.stageNanos = m.work().stageNanos();
    coordinator.tell(new Prepared(settings.jobId(), m.step(), m.planVersion(), settings.shard()));
    return stash.unstashAll(behavior(new Voted(s.plan(), m.step(), m.work().weights())));
  }

  /**
   * Commits the prepared step (staged in this run, or found prepared in the store after a restart); answers Committed
   * again for the step already committed.
   */
  private Behavior<Command> onCommit(Phase phase, Commit commit) {
    long step = commit.step();
    if (step == committed.step()) {
      coordinator.tell(new Committed(settings.jobId(), step, commit.planVersion(), settings.shard()));
      return Behaviors.same();
    }
    if (step != preparedStep) {
      context.getLog().warn("{}: Commit of step {} ignored: committed step {}, prepared {}", settings.memberId(), step,
          committed.step(), preparedStep);
      return Behaviors.same();
    }
    Weights staged = phase instanceof Voted v && v.step() == step ? v.staged() : null;
    timing.commit = System.nanoTime();
    CompletableFuture<Weights> work = CompletableFuture.supplyAsync(() -> {
      store.commit(step);
      return staged != null ? staged : new Weights(step, store.committedParams(), store.committedState());
    }, optimizerThread);
    int version = commit.planVersion();
    context.pipeToSelf(work, (w, failure) -> new CommitDone(step, version, w, failure));
    return behavior(new Committing(planOf(phase), step));
  }

  /** Step t + 1 is committed: it becomes the step that begins next. */
  private Behavior<Command> onCommitDone(Phase phase, CommitDone m) {
    Installed plan = planOf(phase);
    if (m.failure() != null) {
      context.getLog().error("{}: commit of step {} failed; the committed step stays {} and step {} stays prepared",
          settings.memberId(), m.step(), committed.step(), m.step(), m.failure());
      return stash.unstashAll(behavior(new Voted(plan, m.step(), null)));
    }
    committed = m.weights();
    preparedStep = ShardState.NONE;
    timing.log(m.step());
    dataPlane.abandonStepsBefore(m.step());
    if (plan != null && plan.version() == m.planVersion() && m.step() < settings.totalSteps()) {
      sendParameters(plan, m.step());
    }
    coordinator.tell(new Committed(settings.jobId(), m.step(), m.planVersion(), settings.shard()));
    Phase next = plan == null ? new AwaitingInstall() : new Planned(plan, new GroupReducer(sizes, plan.groups()));
    return stash.unstashAll(behavior(next));
  }

  /** Drops everything of step t, the prepared step t + 1 included, and waits for a new plan. */
  private Behavior<Command> onAbort(Phase phase, Abort abort) {
    if (abort.step() < committed.step()) {
      context.getLog().info("{}: Abort of step {} ignored: step {} is committed here", settings.memberId(),
          abort.step(), committed.step());
      return Behaviors.same();
    }
    attempts++;
    cancelParameters();
    if (preparedStep != ShardState.NONE || phase instanceof Staging) {
      dropPrepared();
    }
    dataPlane.abandonStepsBefore(abort.step() + 1);
    context.getLog().info("{}: step {} aborted ({}); committed step {}, waiting for a new plan", settings.memberId(),
        abort.step(), abort.reason(), committed.step());
    return stash.unstashAll(behavior(new AwaitingInstall()));
  }

  /**
   * Forgets the prepared step at once (Hello stops reporting it) and removes it from the store, queued behind any
   * stage in flight. Reporting it dropped before the store has is safe: a step is committed only once every shard
   * voted, so a step being dropped is committed nowhere.
   */
  private void dropPrepared() {
    preparedStep = ShardState.NONE;
    ActorRef<Command> self = context.getSelf();
    CompletableFuture.runAsync(store::abort, optimizerThread).whenComplete((ok, failure) -> {
      if (failure != null) {
        self.tell(new AbortFailed(failure));
      }
    });
  }

  private void hello() {
    coordinator.tell(new Hello(settings.jobId(), settings.memberId(), Hello.SHARD, dataPlane.self(), control, null,
        new ShardState(settings.shard(), committed.step(), preparedStep)));
  }

  private void stop() {
    inbox.close();
    sender.close();
    optimizerThread.execute(store::close);
    optimizerThread.shutdown();
    try {
      if (!optimizerThread.awaitTermination(STOP_WAIT_SECONDS, TimeUnit.SECONDS)) {
        context.getLog().error("{}: a store write did not finish within {} s of stopping; the store is left to "
            + "recover when it is next opened", settings.memberId(), STOP_WAIT_SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // ---- helpers ---------------------------------------------------------------------------------------------------

  private boolean ofThisJob(ControlMessage message) {
    if (!(message instanceof JobScoped scoped)) {
      context.getLog().warn("{}: unexpected {}; ignored", settings.memberId(), message);
      return false;
    }
    long jobId = scoped.jobId();
    if (jobId != settings.jobId()) {
      context.getLog().warn("{}: {} of job 0x{} ignored; this shard serves job 0x{}", settings.memberId(),
          message.getClass().getSimpleName(), Long.toHexString(jobId), Long.toHexString(settings.jobId()));
      return false;
    }
    return true;
  }

  /** Runs a handler; a failure is logged with what was being handled, and the shard carries on as it was. */
  private Behavior<Command> safely(Object what, Supplier<Behavior<Command>> handler) {
    try {
      return handler.get();
    } catch (RuntimeException e) {
      context.getLog().error("{}: failed handling {}; dropped", settings.memberId(), what, e);
      return Behaviors.same();
    }
  }

  private static Installed planOf(Phase phase) {
    if (phase instanceof Planned p) {
      return p.plan();
    } else if (phase instanceof Collecting p) {
      return p.plan();
    } else if (phase instanceof AwaitingNorm p) {
      return p.plan();
    } else if (phase instanceof Staging p) {
      return p.plan();
    } else if (phase instanceof Voted p) {
      return p.plan();
    } else if (phase instanceof Committing p) {
      return p.plan();
    }
    return null;
  }

  private String describe(Phase phase) {
    Installed plan = planOf(phase);
    String name = phase.getClass().getSimpleName();
    return plan == null ? "no plan is installed (" + name + ")"
        : "plan " + plan.version() + " is installed, the shard is " + name + " at committed step " + committed.step();
  }

  private FlatFloats copy(FlatFloats from) {
    float[][] tensors = new float[sizes.length][];
    for (int i = 0; i < tensors.length; i++) {
      tensors[i] = new float[sizes[i]];
      from.copyTensorTo(i, tensors[i], 0);
    }
    return FlatFloats.ofTensors(shardManifest, tensors);
  }

  private static String rootMessage(Throwable t) {
    Throwable root = t;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    return root.getMessage();
  }
}
