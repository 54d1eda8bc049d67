package io.vitfleet.coordinator.job;

import io.vitfleet.coordinator.plan.PlanConstraints;
import io.vitfleet.coordinator.plan.Planner;
import io.vitfleet.coordinator.plan.PlanningException;
import io.vitfleet.model.ViTParameters;
import io.vitfleet.protocol.ParameterManifest;
import io.vitfleet.protocol.control.Abort;
import io.vitfleet.protocol.control.Begin;
import io.vitfleet.protocol.control.Commit;
import io.vitfleet.protocol.control.Committed;
import io.vitfleet.protocol.control.ControlMessage;
import io.vitfleet.protocol.control.DataPlaneMetrics;
import io.vitfleet.protocol.control.Endpoint;
import io.vitfleet.protocol.control.GlobalNorm;
import io.vitfleet.protocol.control.Hello;
import io.vitfleet.protocol.control.Install;
import io.vitfleet.protocol.control.Members;
import io.vitfleet.protocol.control.NormPartial;
import io.vitfleet.protocol.control.Plan;
import io.vitfleet.protocol.control.Prepared;
import io.vitfleet.protocol.control.Ready;
import io.vitfleet.protocol.control.ShardState;
import io.vitfleet.protocol.control.StageDone;
import io.vitfleet.protocol.control.WorkerInfo;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Down;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * The job's coordinator (a cluster singleton): membership, plans, and the step protocol of architecture.md.
 *
 * <p>Members introduce themselves with {@link Hello} (and repeat it as a heartbeat); the coordinator watches each
 * and listens for unreachable nodes. With every shard, the feeder and enough workers present, it resolves the shards'
 * durable positions to one committed step, plans, installs the plan, and runs steps: {@link Begin}, the shards'
 * {@link NormPartial}s, {@link GlobalNorm}, {@link Prepared} votes, {@link Commit}, {@link Committed}. A member lost
 * before the commit aborts the step; the step runs again under a new plan. Once every shard has voted, the commit is
 * decided: a shard lost then commits when it returns (its prepared step is durable).
 *
 * <p>Its external protocol is {@link ControlMessage}; timers, watches and cluster events arrive as its own private
 * messages.
 */
public final class CoordinatorActor extends AbstractBehavior<Object> {

  private enum Phase { WAITING, INSTALLING, RUNNING, COMMITTING, DONE, FAILED }

  private record Member(String id, String role, ActorRef<ControlMessage> ref, Endpoint endpoint, WorkerInfo worker,
                        ShardState shard, Address address) {
    Member withShard(ShardState s) {
      return new Member(id, role, ref, endpoint, worker, s, address);
    }
  }

  private record MemberGone(String memberId, ActorRef<ControlMessage> ref) {
  }

  private record Deadline(long step, int planVersion) {
  }

  private final CoordinatorSettings settings;
  private final TimerScheduler<Object> timers;
  private final ParameterManifest manifest;
  private final Planner planner;
  private final long jobId;

  private final Map<String, Member> members = new TreeMap<>();
  /** Each member's latest data-plane metrics (drops, transports), kept after it leaves: its drops still count. */
  private final Map<String, DataPlaneMetrics> dataPlanes = new TreeMap<>();
  /** Member references the Receptionist has listed: a listed one that disappears has left. */
  private final Set<ActorRef<ControlMessage>> listed = new HashSet<>();
  private Phase phase = Phase.WAITING;
  private String message = "waiting for members";
  private int nextVersion = 1;
  private Plan plan;
  private Install install;
  private long committed = -1;
  private boolean replanNeeded;
  private final Set<String> awaitingReady = new HashSet<>();

  private long step = -1;
  private long stepStartNanos;
  private final Map<String, StageDone> stageDone = new HashMap<>();
  private final Map<Integer, NormPartial> norms = new HashMap<>();
  private final Set<Integer> prepared = new HashSet<>();
  private final Set<Integer> committedShards = new HashSet<>();

  private double loss = Double.NaN;
  private double imagesPerSecond;
  private final Map<String, Double> workerSeconds = new TreeMap<>();
  private long abortedSteps;

  /** The coordinator of the job described by {@code settings}. */
  public static Behavior<ControlMessage> create(CoordinatorSettings settings) {
    Behavior<Object> b = Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new CoordinatorActor(ctx, timers, settings)));
    return b.narrow();
  }

  private CoordinatorActor(ActorContext<Object> ctx, TimerScheduler<Object> timers, CoordinatorSettings settings) {
    super(ctx);
    this.settings = settings;
    this.timers = timers;
    this.jobId = settings.jobId();
    this.manifest = ViTParameters.manifest(settings.model());
    this.planner = new Planner(settings.model(), settings.job(), settings.shards());
    Cluster.get(ctx.getSystem()).subscriptions().tell(
        Subscribe.create(ctx.getSelf().narrow(), ClusterEvent.UnreachableMember.class));
    ctx.getSystem().receptionist().tell(Receptionist.subscribe(Members.KEY, ctx.getSelf().narrow()));
    ctx.getLog().info("coordinator of job {} up: {} shards, at least {} workers, {} steps",
        Long.toHexString(jobId), settings.shards(), settings.minWorkers(), settings.totalSteps());
    writeStatus();
  }

  @Override
  public Receive<Object> createReceive() {
    return newReceiveBuilder()
        .onMessage(Hello.class, this::onHello)
        .onMessage(Ready.class, this::onReady)
        .onMessage(StageDone.class, this::onStageDone)
        .onMessage(NormPartial.class, this::onNormPartial)
        .onMessage(Prepared.class, this::onPrepared)
        .onMessage(Committed.class, this::onCommitted)
        .onMessage(DataPlaneMetrics.class, this::onMetrics)
        .onMessage(MemberGone.class, this::onMemberGone)
        .onMessage(ClusterEvent.UnreachableMember.class, this::onUnreachable)
        .onMessage(Deadline.class, this::onDeadline)
        .onMessage(Receptionist.Listing.class, this::onListing)
        .onMessage(ControlMessage.class, m -> {
          getContext().getLog().warn("coordinator ignores {}", m);
          return this;
        })
        .build();
  }

  // ---- membership ---------------------------------------------------------------------------------------------

  private Behavior<Object> onHello(Hello h) {
    if (h.jobId() != jobId) {
      getContext().getLog().warn("{} belongs to job {}, not {}: ignored", h.memberId(), Long.toHexString(h.jobId()),
          Long.toHexString(jobId));
      return this;
    }
    Member known = members.get(h.memberId());
    if (known != null && known.ref().equals(h.ref())) {
      if (h.shard() != null) {
        members.put(known.id(), known.withShard(h.shard()));
        if (phase == Phase.WAITING) {
          tryStart();
        }
      }
      return this;
    }
    if (known != null) {
      lost(known, "restarted");
    }
    Member m = new Member(h.memberId(), h.role(), h.ref(), h.endpoint(), h.worker(), h.shard(),
        h.ref().path().address());
    members.put(m.id(), m);
    getContext().watchWith(h.ref(), new MemberGone(m.id(), h.ref()));
    getContext().getLog().info("{} joined ({} on host {}, data at {}{} stream {})", m.id(), m.role(),
        m.endpoint().host(), m.endpoint().channel(),
        m.endpoint().acceptsOtherHosts() ? " and " + m.endpoint().udpChannel() : "", m.endpoint().streamId());
    switch (phase) {
      case WAITING -> tryStart();
      case INSTALLING, RUNNING -> {
        if (Hello.WORKER.equals(m.role())) {
          replanNeeded = true;
        }
      }
      case COMMITTING -> {
        if (Hello.WORKER.equals(m.role())) {
          replanNeeded = true;
        } else if (Hello.SHARD.equals(m.role())) {
          resumeCommit(m);
        }
      }
      default -> {
      }
    }
    writeStatus();
    return this;
  }

  /**
   * Members register with the Receptionist; a known member whose reference has been listed and no longer is has
   * left (its node was removed), even if no watch has fired yet.
   */
  private Behavior<Object> onListing(Receptionist.Listing listing) {
    Set<ActorRef<ControlMessage>> now = listing.getServiceInstances(Members.KEY);
    for (Member m : List.copyOf(members.values())) {
      if (now.contains(m.ref())) {
        listed.add(m.ref());
      } else if (listed.remove(m.ref())) {
        lost(m, "left the receptionist");
      }
    }
    return this;
  }

  private Behavior<Object> onMemberGone(MemberGone g) {
    Member m = members.get(g.memberId());
    if (m != null && m.ref().equals(g.ref())) {
      lost(m, "stopped");
    }
    return this;
  }

  private Behavior<Object> onUnreachable(ClusterEvent.UnreachableMember u) {
    for (Member m : List.copyOf(members.values())) {
      if (m.address().equals(u.member().address())) {
        lost(m, "unreachable");
      }
    }
    // The coordinator has written the node off: down it now rather than after the Split Brain Resolver's
    // stable-after. Unreachable nodes that linger block new members from joining, and a few killed in quick
    // succession (restarted shards come back as new nodes) would otherwise look like a partition to the resolver.
    // A node downed by mistake exits; the launcher restarts it if it is a shard or the feeder.
    Cluster.get(getContext().getSystem()).manager().tell(new Down(u.member().address()));
    return this;
  }

  private void lost(Member m, String why) {
    members.remove(m.id());
    listed.remove(m.ref());
    getContext().unwatch(m.ref());
    getContext().getLog().warn("{} lost ({}) in phase {} of step {}", m.id(), why, phase, step);
    boolean inPlan = plan != null && (!Hello.WORKER.equals(m.role())
        || plan.workers().stream().anyMatch(w -> w.workerId().equals(m.id())));
    if (Hello.WORKER.equals(m.role()) && inPlan) {
      replanNeeded = true;
    }
    if (inPlan && (phase == Phase.INSTALLING || phase == Phase.RUNNING)) {
      abort(m.id() + " lost (" + why + ")");
    }
    writeStatus();
  }

  private Behavior<Object> onMetrics(DataPlaneMetrics d) {
    if (d.jobId() == jobId) {
      dataPlanes.put(d.memberId(), d);
      // While steps run, each step writes the status; otherwise (waiting, done, failed) the metrics would not show.
      if (phase != Phase.RUNNING && phase != Phase.COMMITTING) {
        writeStatus();
      }
    }
    return this;
  }

  // ---- start, plan, install ------------------------------------------------------------------------------------

  /** With every shard, the feeder and enough workers: one committed step, then a plan. */
  private void tryStart() {
    List<Member> shards = new ArrayList<>();
    for (int i = 0; i < settings.shards(); i++) {
      Member s = members.get(Install.shardMemberId(i));
      if (s == null || s.shard() == null) {
        message = "waiting for shard-" + i;
        writeStatus();
        return;
      }
      shards.add(s);
    }
    if (!members.containsKey("feeder")) {
      message = "waiting for the feeder";
      writeStatus();
      return;
    }
    int needed = plan == null ? settings.minWorkers() : 1;
    if (workers().size() < needed) {
      message = "waiting for workers: " + workers().size() + " of " + needed;
      writeStatus();
      return;
    }
    long c = committed;
    for (Member s : shards) {
      c = Math.max(c, s.shard().committedStep());
    }
    boolean allAtC = true;
    for (Member s : shards) {
      ShardState st = s.shard();
      if (st.committedStep() == c) {
        continue;
      }
      allAtC = false;
      if (st.preparedStep() == c) {
        // The commit of c was decided (another shard committed it): this shard completes it.
        s.ref().tell(new Commit(jobId, c, plan == null ? 0 : plan.version()));
      } else {
        fail("shard-" + st.shard() + " is at step " + st.committedStep() + " with nothing prepared, but step " + c
            + " is committed elsewhere: its store lost a committed step; restore it from a checkpoint");
        return;
      }
    }
    if (!allAtC) {
      message = "completing the commit of step " + c;
      writeStatus();
      return;
    }
    committed = c;
    if (committed >= settings.totalSteps()) {
      finish();
      return;
    }
    installNewPlan();
  }

  private List<WorkerInfo> workers() {
    List<WorkerInfo> out = new ArrayList<>();
    for (Member m : members.values()) {
      if (Hello.WORKER.equals(m.role())) {
        out.add(m.worker());
      }
    }
    return out;
  }

  private void installNewPlan() {
    int version = nextVersion++;
    Plan next;
    try {
      next = choosePlan(version);
    } catch (PlanningException e) {
      message = "no plan fits the members: " + e.getMessage() + "; waiting for more workers";
      getContext().getLog().warn(message);
      phase = Phase.WAITING;
      writeStatus();
      return;
    }
    plan = next;
    replanNeeded = false;
    List<Endpoint> endpoints = new ArrayList<>();
    for (Member m : members.values()) {
      endpoints.add(m.endpoint());
    }
    install = new Install(jobId, committed, plan, endpoints, stageTensors(plan));
    phase = Phase.INSTALLING;
    message = "installing plan " + version;
    awaitingReady.clear();
    for (Member m : members.values()) {
      awaitingReady.add(m.id());
      m.ref().tell(install);
    }
    step = committed;
    timers.startSingleTimer(new Deadline(step, version), settings.stepTimeout().multipliedBy(2));
    getContext().getLog().info("plan {}: P={} D={} stages {} workers {} groups {}", version, plan.pipelineDepth(),
        plan.dataParallel(), plan.stages(), plan.workers(), plan.replicaGroups());
    writeStatus();
  }

  /** What the operator asked for; failing that, the deepest pipeline that fits, down to one stage; else anything. */
  private Plan choosePlan(int version) {
    List<WorkerInfo> w = workers();
    try {
      return planner.plan(w, settings.requested(), version);
    } catch (PlanningException asked) {
      int from = settings.requested().stagesForced() ? settings.requested().stages() : settings.model().depth();
      for (int p = Math.min(from, w.size()); p >= 1; p--) {
        try {
          return planner.plan(w, new PlanConstraints(p, 0), version);
        } catch (PlanningException e) {
          // try a shallower pipeline
        }
      }
      return planner.plan(w, PlanConstraints.FREE, version);
    }
  }

  private List<List<Integer>> stageTensors(Plan p) {
    List<List<Integer>> out = new ArrayList<>();
    for (Plan.StageLayers s : p.stages()) {
      ParameterManifest stage = ViTParameters.stageManifest(settings.model(), s.firstBlock(), s.endBlock());
      List<Integer> ids = new ArrayList<>(stage.count());
      for (int i = 0; i < stage.count(); i++) {
        ids.add(manifest.indexOf(stage.get(i).name()));
      }
      out.add(ids);
    }
    return out;
  }

  private Behavior<Object> onReady(Ready r) {
    if (phase != Phase.INSTALLING || plan == null || r.planVersion() != plan.version()) {
      return this;
    }
    awaitingReady.remove(r.memberId());
    if (awaitingReady.isEmpty()) {
      begin();
    }
    return this;
  }

  // ---- the step ------------------------------------------------------------------------------------------------

  private void begin() {
    boolean firstOfPlan = phase == Phase.INSTALLING;
    step = committed;
    phase = Phase.RUNNING;
    message = "running";
    stageDone.clear();
    norms.clear();
    prepared.clear();
    committedShards.clear();
    stepStartNanos = System.nanoTime();
    Begin b = new Begin(jobId, step, plan.version());
    for (Member m : members.values()) {
      m.ref().tell(b);
    }
    timers.startSingleTimer(new Deadline(step, plan.version()), settings.stepTimeout());
    if (firstOfPlan) {
      writeStatus();
    }
  }

  private boolean current(long s, int version) {
    return plan != null && version == plan.version() && s == step;
  }

  private Behavior<Object> onStageDone(StageDone d) {
    if (current(d.step(), d.planVersion())) {
      stageDone.put(d.workerId(), d);
      workerSeconds.put(d.workerId(), d.seconds());
    }
    return this;
  }

  private Behavior<Object> onNormPartial(NormPartial n) {
    if (phase != Phase.RUNNING || !current(n.step(), n.planVersion())) {
      return this;
    }
    norms.put(n.shard(), n);
    if (norms.size() < settings.shards()) {
      return this;
    }
    double[] squares = new double[manifest.count()];
    boolean[] seen = new boolean[manifest.count()];
    for (NormPartial p : norms.values()) {
      int[] t = p.tensors();
      double[] v = p.squaredNorms();
      for (int i = 0; i < t.length; i++) {
        if (t[i] < 0 || t[i] >= squares.length || seen[t[i]]) {
          abort("shard-" + p.shard() + " reported the norm of tensor " + t[i] + " which is unknown or twice");
          return this;
        }
        seen[t[i]] = true;
        squares[t[i]] = v[i];
      }
    }
    double sum = 0.0;
    for (int i = 0; i < squares.length; i++) {
      if (!seen[i]) {
        abort("no shard reported the norm of tensor " + i + " (" + manifest.get(i).name() + ")");
        return this;
      }
      sum += squares[i];
    }
    GlobalNorm g = new GlobalNorm(jobId, step, plan.version(), Math.sqrt(sum));
    for (Member m : shardMembers()) {
      m.ref().tell(g);
    }
    return this;
  }

  private Behavior<Object> onPrepared(Prepared p) {
    if (phase != Phase.RUNNING || !current(p.step() - 1, p.planVersion())) {
      return this;
    }
    prepared.add(p.shard());
    if (prepared.size() == settings.shards()) {
      phase = Phase.COMMITTING;
      message = "committing step " + (step + 1);
      timers.cancel(new Deadline(step, plan.version()));
      Commit c = new Commit(jobId, step + 1, plan.version());
      for (Member m : shardMembers()) {
        m.ref().tell(c);
      }
    }
    return this;
  }

  /** A shard that returned while a commit was decided: it commits its prepared step, or already has. */
  private void resumeCommit(Member shard) {
    ShardState st = shard.shard();
    if (st.committedStep() == step + 1) {
      onCommitted(new Committed(jobId, step + 1, plan.version(), st.shard()));
    } else if (st.preparedStep() == step + 1) {
      shard.ref().tell(new Commit(jobId, step + 1, plan.version()));
    } else {
      fail("shard-" + st.shard() + " returned at step " + st.committedStep() + " without its prepared step "
          + (step + 1) + ", which the other shards are committing: restore it from a checkpoint");
    }
  }

  private Behavior<Object> onCommitted(Committed c) {
    Member s = members.get(Install.shardMemberId(c.shard()));
    if (s != null) {
      ShardState old = s.shard();
      members.put(s.id(), s.withShard(new ShardState(c.shard(), c.step(),
          old != null && old.preparedStep() > c.step() ? old.preparedStep() : ShardState.NONE)));
    }
    if (phase == Phase.WAITING) {
      tryStart();
      return this;
    }
    if (phase != Phase.COMMITTING || c.step() != step + 1) {
      return this;
    }
    committedShards.add(c.shard());
    if (committedShards.size() == settings.shards()) {
      committedStep();
    }
    return this;
  }

  private void committedStep() {
    committed = step + 1;
    double seconds = (System.nanoTime() - stepStartNanos) / 1e9;
    double stepLoss = 0;
    int lastStages = 0;
    for (StageDone d : stageDone.values()) {
      if (d.stage() == plan.pipelineDepth() - 1) {
        stepLoss += d.lossSum();
        lastStages++;
      }
    }
    loss = lastStages == plan.dataParallel() ? stepLoss : Double.NaN;
    double ips = settings.job().globalBatch() / seconds;
    imagesPerSecond = imagesPerSecond == 0 ? ips : 0.8 * imagesPerSecond + 0.2 * ips;
    getContext().getLog().info("step {} committed: loss {} in {} s", committed, loss, String.format("%.3f", seconds));
    if (committed >= settings.totalSteps()) {
      finish();
      return;
    }
    if (replanNeeded) {
      installNewPlan();
    } else {
      // Begin first: the status file is for people, the next step is for the workers.
      begin();
      writeStatus();
    }
  }

  private Behavior<Object> onDeadline(Deadline d) {
    if ((phase == Phase.RUNNING || phase == Phase.INSTALLING) && plan != null && d.planVersion() == plan.version()
        && d.step() == step) {
      abort("step " + step + " missed its deadline of " + settings.stepTimeout().toSeconds() + " s");
    }
    return this;
  }

  private void abort(String reason) {
    abortedSteps++;
    getContext().getLog().warn("aborting step {} of plan {}: {}", step, plan.version(), reason);
    timers.cancel(new Deadline(step, plan.version()));
    Abort a = new Abort(jobId, step, plan.version(), reason);
    for (Member m : members.values()) {
      m.ref().tell(a);
    }
    phase = Phase.WAITING;
    message = "step " + step + " aborted: " + reason;
    replanNeeded = true;
    tryStart();
  }

  private List<Member> shardMembers() {
    List<Member> out = new ArrayList<>();
    for (Member m : members.values()) {
      if (Hello.SHARD.equals(m.role())) {
        out.add(m);
      }
    }
    return out;
  }

  private void finish() {
    phase = Phase.DONE;
    message = "trained " + committed + " steps";
    getContext().getLog().info("job done: {}", message);
    writeStatus();
  }

  private void fail(String why) {
    phase = Phase.FAILED;
    message = why;
    getContext().getLog().error("job failed: {}", why);
    writeStatus();
  }

  // ---- status --------------------------------------------------------------------------------------------------

  private void writeStatus() {
    JobStatus.PlanView view = null;
    if (plan != null) {
      List<int[]> layers = new ArrayList<>();
      for (Plan.StageLayers s : plan.stages()) {
        layers.add(new int[] {s.firstBlock(), s.endBlock()});
      }
      Map<String, int[]> assignments = new LinkedHashMap<>();
      for (Plan.WorkerAssignment w : plan.workers()) {
        assignments.put(w.workerId(), new int[] {w.replica(), w.stage()});
      }
      view = new JobStatus.PlanView(plan.version(), plan.pipelineDepth(), plan.dataParallel(), layers, assignments);
    }
    List<JobStatus.MemberView> list = new ArrayList<>();
    for (Member m : members.values()) {
      list.add(new JobStatus.MemberView(m.id(), m.role()));
    }
    long dropped = dataPlanes.values().stream().mapToLong(DataPlaneMetrics::dropped).sum();
    Map<String, JobStatus.DataPlaneView> planes = new TreeMap<>();
    for (DataPlaneMetrics d : dataPlanes.values()) {
      planes.put(d.memberId(), new JobStatus.DataPlaneView(d.host(), d.framesReceived(), d.links(), d.dropped()));
    }
    String state = switch (phase) {
      case WAITING -> "waiting";
      case INSTALLING -> "installing";
      case RUNNING, COMMITTING -> "running";
      case DONE -> "done";
      case FAILED -> "failed";
    };
    try {
      new JobStatus(Long.toHexString(jobId), state, message, Math.max(committed, 0), settings.totalSteps(), loss,
          imagesPerSecond, view, list, new TreeMap<>(workerSeconds), abortedSteps, dropped, planes, null)
          .write(settings.statusFile());
    } catch (RuntimeException e) {
      getContext().getLog().warn("status not written: {}", e.getMessage());
    }
  }
}
