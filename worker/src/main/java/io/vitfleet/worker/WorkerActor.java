package io.vitfleet.worker;

import io.vitfleet.model.StageGraph;
import io.vitfleet.protocol.control.Abort;
import io.vitfleet.protocol.control.Begin;
import io.vitfleet.protocol.control.ControlMessage;
import io.vitfleet.protocol.control.Endpoint;
import io.vitfleet.protocol.control.Hello;
import io.vitfleet.protocol.control.Install;
import io.vitfleet.protocol.control.Plan;
import io.vitfleet.protocol.control.Ready;
import io.vitfleet.protocol.control.StageDone;
import io.vitfleet.protocol.control.StepMessage;
import io.vitfleet.protocol.control.WorkerInfo;
import io.vitfleet.protocol.link.DataPlane;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.BehaviorBuilder;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * A worker member of the cluster (docs/cluster.md): introduces itself to the coordinator every second, prepares each
 * plan it is sent (builds its stage graph, accepts the plan on its data plane, answers {@link Ready}), runs its stage
 * of every step it is told to begin and reports {@link StageDone}, and drops a step on {@link Abort}.
 *
 * <p>TensorFlow work — building graphs and running steps — happens on one dedicated compute thread, never on the
 * actor's; the compute thread reports back with the internal commands below. A failed step is logged and nothing
 * else: the coordinator's step deadline or failure detector aborts it, and the actor lives on.
 *
 * <p>States: idle (no plan, not in the plan, or after an abort) -> installing -> ready -> running -> ready ...
 */
public final class WorkerActor {

  /** Everything the worker actor accepts. */
  public sealed interface Command {
  }

  /** A control message from another member, through the message adapter the worker hands out in its Hello. */
  public record Control(ControlMessage message) implements Command {
  }

  /** Timer: time to send the coordinator a Hello. */
  private record Heartbeat() implements Command {
  }

  /** Compute thread: {@code install} is prepared; {@code executor} is null when this worker is not in the plan. */
  private record Prepared(Install install, StageExecutor executor) implements Command {
  }

  /** Compute thread: {@code install} could not be prepared. */
  private record PrepareFailed(Install install, Throwable cause) implements Command {
  }

  /** Compute thread: the step finished and every group sum was sent. */
  private record StepFinished(int planVersion, StageExecutor.StepOutcome outcome) implements Command {
  }

  /** Compute thread: the step failed or was cancelled. */
  private record StepFailed(int planVersion, long step, Throwable cause) implements Command {
  }

  /**
   * How often the worker says Hello to the coordinator: 1 s (docs/cluster.md). The Hello is how a new coordinator
   * learns of the worker after a hand-over, so this bounds that delay; each costs one small message.
   */
  public static final Duration HELLO_INTERVAL = Duration.ofSeconds(1);

  private final ActorContext<Command> ctx;
  private final WorkerSettings settings;
  private final ActorRef<ControlMessage> coordinator;
  private final TensorMailbox mailbox;
  private final DataPlane dataPlane;
  private final ActorRef<ControlMessage> controlRef;
  private final ExecutorService compute;
  /** Used on the compute thread only. */
  private final StageGraphCache graphs;

  /**
   * The worker of {@code settings}.
   *
   * @param coordinator where Hello, Ready and StageDone go: in a cluster, the coordinator singleton's proxy
   * @param mailbox the sink of {@code dataPlane}: connect it with {@link WorkerSettings#connectDataPlane}
   * @param dataPlane the worker's own data plane; the caller closes it after the actor stopped
   */
  public static Behavior<Command> create(WorkerSettings settings, ActorRef<ControlMessage> coordinator,
                                         TensorMailbox mailbox, DataPlane dataPlane) {
    return create(settings, coordinator, mailbox, dataPlane, null);
  }

  /**
   * As {@link #create(WorkerSettings, ActorRef, TensorMailbox, DataPlane)}, and registers the worker's control
   * reference (the one its Hello carries) with the Receptionist under {@code memberKey} when that is not null.
   */
  public static Behavior<Command> create(WorkerSettings settings, ActorRef<ControlMessage> coordinator,
                                         TensorMailbox mailbox, DataPlane dataPlane,
                                         ServiceKey<ControlMessage> memberKey) {
    if (dataPlane.jobId() != settings.jobId()) {
      throw new IllegalArgumentException("worker " + settings.memberId() + " is set up for job " + settings.jobId()
          + " but its data plane for job " + dataPlane.jobId() + "; connect it with WorkerSettings.connectDataPlane");
    }
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      // Named after this class: the default name comes from the behaviour's lambda, outside the io.vitfleet loggers.
      ctx.setLoggerName(WorkerActor.class);
      WorkerActor worker = new WorkerActor(ctx, settings, coordinator, mailbox, dataPlane);
      if (memberKey != null) {
        ctx.getSystem().receptionist().tell(Receptionist.register(memberKey, worker.controlRef));
      }
      worker.sayHello();
      timers.startTimerWithFixedDelay(new Heartbeat(), HELLO_INTERVAL);
      return worker.idle(-1);
    }));
  }

  private WorkerActor(ActorContext<Command> ctx, WorkerSettings settings, ActorRef<ControlMessage> coordinator,
                      TensorMailbox mailbox, DataPlane dataPlane) {
    this.ctx = ctx;
    this.settings = settings;
    this.coordinator = coordinator;
    this.mailbox = mailbox;
    this.dataPlane = dataPlane;
    this.controlRef = ctx.messageAdapter(ControlMessage.class, Control::new);
    this.compute = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "compute-" + settings.memberId());
      t.setDaemon(true);
      return t;
    });
    this.graphs = new StageGraphCache(settings.model(), settings.microbatch(), settings.threads(),
        StageGraphCache.DEFAULT_CAPACITY);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // States

  /**
   * No plan to run: not installed yet, not part of the installed plan, or the step was aborted. {@code version} is
   * the last plan seen (-1 for none), to tell stale aborts.
   */
  private Behavior<Command> idle(int version) {
    return common(Behaviors.<Command>receive(Command.class)
        .onMessage(Control.class, c -> onControl(c.message(), version, null, -1)));
  }

  /** Preparing {@code pending} on the compute thread. */
  private Behavior<Command> installing(Install pending) {
    return common(Behaviors.<Command>receive(Command.class)
        .onMessage(Control.class, c -> onControl(c.message(), pending.plan().version(), null, -1))
        .onMessage(Prepared.class, p -> onPrepared(p, pending))
        .onMessage(PrepareFailed.class, f -> onPrepareFailed(f, pending)));
  }

  /** The plan of {@code executor} is installed; waiting for a Begin. */
  private Behavior<Command> ready(StageExecutor executor) {
    return common(Behaviors.<Command>receive(Command.class)
        .onMessage(Control.class, c -> onControl(c.message(), executor.planVersion(), executor, -1)));
  }

  /** Step {@code step} runs on the compute thread. */
  private Behavior<Command> running(StageExecutor executor, long step) {
    return common(Behaviors.<Command>receive(Command.class)
        .onMessage(Control.class, c -> onControl(c.message(), executor.planVersion(), executor, step))
        .onMessage(StepFinished.class, f -> onStepFinished(f, executor, step))
        .onMessage(StepFailed.class, f -> onStepFailed(f, executor, step)));
  }

  /**
   * What every state handles alike, after the state's own handlers (the first match wins): the heartbeat, and
   * reports of work that is no longer current, which are dropped.
   */
  private Behavior<Command> common(BehaviorBuilder<Command> state) {
    return state
        .onMessage(Heartbeat.class, h -> {
          sayHello();
          return Behaviors.same();
        })
        .onMessage(Prepared.class, p -> Behaviors.same())
        .onMessage(PrepareFailed.class, p -> Behaviors.same())
        .onMessage(StepFinished.class, f -> Behaviors.same())
        .onMessage(StepFailed.class, f -> {
          ctx.getLog().debug("{}: step {} of plan {} stopped after it was discarded: {}", settings.memberId(),
              f.step(), f.planVersion(), f.cause().toString());
          return Behaviors.same();
        })
        .onSignal(PostStop.class, s -> onStop())
        .build();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Control messages

  /**
   * A control message in any state: {@code version} is the plan installed or being installed (-1 when none),
   * {@code executor} the installed stage (null when none), {@code runningStep} the step running now (-1 when none).
   */
  private Behavior<Command> onControl(ControlMessage message, int version, StageExecutor executor,
                                      long runningStep) {
    if (message instanceof Install install) {
      return onInstall(install, runningStep);
    }
    if (message instanceof StepMessage m && m.jobId() != settings.jobId()) {
      ctx.getLog().warn("{}: ignoring {} of job {}; this worker runs job {}", settings.memberId(), message,
          m.jobId(), settings.jobId());
      return Behaviors.same();
    }
    if (message instanceof Abort abort) {
      return onAbort(abort, version, runningStep);
    }
    if (message instanceof Begin begin) {
      return onBegin(begin, executor, runningStep);
    }
    ctx.getLog().debug("{}: ignoring {}", settings.memberId(), message);
    return Behaviors.same();
  }

  private Behavior<Command> onInstall(Install install, long runningStep) {
    if (install.jobId() != settings.jobId()) {
      ctx.getLog().warn("{}: ignoring the install of plan {} of job {}; this worker runs job {}",
          settings.memberId(), install.plan().version(), install.jobId(), settings.jobId());
      return Behaviors.same();
    }
    if (runningStep >= 0) {
      ctx.getLog().warn("{}: plan {} installed while step {} runs; discarding the step", settings.memberId(),
          install.plan().version(), runningStep);
      mailbox.cancel();
    }
    ActorRef<Command> self = ctx.getSelf();
    compute.execute(() -> {
      try {
        self.tell(new Prepared(install, prepare(install)));
      } catch (Throwable e) {
        self.tell(new PrepareFailed(install, e));
      }
    });
    return installing(install);
  }

  /** On the compute thread: the stage graph and executor of this worker, or null when it is not in the plan. */
  private StageExecutor prepare(Install install) {
    Plan plan = install.plan();
    StageExecutor executor = null;
    for (Plan.WorkerAssignment a : plan.workers()) {
      if (a.workerId().equals(settings.memberId())) {
        Plan.StageLayers layers = plan.stages().get(a.stage());
        StageGraph graph = graphs.get(layers.firstBlock(), layers.endBlock());
        executor = new StageExecutor(install, a.replica(), a.stage(), graph, settings.globalBatch(),
            settings.groups(), settings.receiveTimeout());
      }
    }
    // Mailbox first: from here on it keeps only this plan's tensors, and lifts the cancel of an abort.
    mailbox.acceptPlan(plan.version());
    dataPlane.acceptPlan(plan.version());
    return executor;
  }

  private Behavior<Command> onPrepared(Prepared p, Install pending) {
    if (p.install() != pending) {
      return Behaviors.same();
    }
    int version = pending.plan().version();
    coordinator.tell(new Ready(settings.jobId(), version, settings.memberId()));
    if (p.executor() == null) {
      ctx.getLog().info("{}: plan {} installed; not part of it, idle", settings.memberId(), version);
      return idle(version);
    }
    StageExecutor e = p.executor();
    ctx.getLog().info("{}: plan {} installed; replica {}, stage {} of {}", settings.memberId(), version,
        e.replica(), e.stage(), pending.plan().pipelineDepth());
    return ready(e);
  }

  private Behavior<Command> onPrepareFailed(PrepareFailed f, Install pending) {
    if (f.install() != pending) {
      return Behaviors.same();
    }
    ctx.getLog().error("{}: cannot prepare plan {}: {}; not answering Ready (the coordinator will re-plan "
        + "without this worker)", settings.memberId(), pending.plan().version(), f.cause().toString(), f.cause());
    return idle(pending.plan().version());
  }

  private Behavior<Command> onBegin(Begin begin, StageExecutor executor, long runningStep) {
    if (executor == null || begin.planVersion() != executor.planVersion()) {
      ctx.getLog().debug("{}: ignoring {} (installed: {})", settings.memberId(), begin,
          executor == null ? "none" : "plan " + executor.planVersion());
      return Behaviors.same();
    }
    if (runningStep >= 0) {
      if (runningStep != begin.step()) {
        ctx.getLog().warn("{}: ignoring {} while step {} runs", settings.memberId(), begin, runningStep);
      }
      return Behaviors.same();
    }
    long step = begin.step();
    int version = executor.planVersion();
    mailbox.discardStepsBefore(step);
    ActorRef<Command> self = ctx.getSelf();
    TensorOutbox outbox = dataPlane::send;
    compute.execute(() -> {
      try {
        self.tell(new StepFinished(version, executor.runStep(step, mailbox, outbox)));
      } catch (Throwable e) {
        self.tell(new StepFailed(version, step, e));
      }
    });
    return running(executor, step);
  }

  private Behavior<Command> onAbort(Abort abort, int version, long runningStep) {
    if (abort.planVersion() < version) {
      ctx.getLog().debug("{}: ignoring {} of an older plan", settings.memberId(), abort);
      return Behaviors.same();
    }
    ctx.getLog().info("{}: step {} of plan {} aborted ({}){}; waiting for a new plan", settings.memberId(),
        abort.step(), abort.planVersion(), abort.reason(), runningStep >= 0 ? ", discarding it" : "");
    mailbox.cancel();
    return idle(Math.max(version, abort.planVersion()));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Reports of the compute thread

  private Behavior<Command> onStepFinished(StepFinished f, StageExecutor executor, long step) {
    StageExecutor.StepOutcome o = f.outcome();
    if (f.planVersion() != executor.planVersion() || o.step() != step) {
      return Behaviors.same();
    }
    coordinator.tell(new StageDone(settings.jobId(), step, f.planVersion(), settings.memberId(), executor.replica(),
        executor.stage(), o.lossSum(), o.microbatches(), o.seconds()));
    if (ctx.getLog().isDebugEnabled()) {
      ctx.getLog().debug("{}: step {} done in {} s (waited {} s for parameters, {} s for inputs)",
          settings.memberId(), step, String.format("%.4f", o.seconds()), String.format("%.4f",
              o.parameterWaitSeconds()), String.format("%.4f", o.inputWaitSeconds()));
    }
    return ready(executor);
  }

  private Behavior<Command> onStepFailed(StepFailed f, StageExecutor executor, long step) {
    if (f.planVersion() != executor.planVersion() || f.step() != step) {
      return Behaviors.same();
    }
    if (f.cause() instanceof CancellationException) {
      ctx.getLog().info("{}: step {} of plan {} cancelled: {}", settings.memberId(), step, f.planVersion(),
          f.cause().getMessage());
    } else {
      ctx.getLog().error("{}: step {} of plan {} failed on replica {}, stage {}: {}; waiting for the coordinator "
          + "to abort it", settings.memberId(), step, f.planVersion(), executor.replica(), executor.stage(),
          f.cause().toString(), f.cause());
    }
    return ready(executor);
  }

  // ---------------------------------------------------------------------------------------------------------------

  private void sayHello() {
    Endpoint self = dataPlane.self();
    WorkerInfo info = new WorkerInfo(settings.memberId(), settings.host(), settings.declaredMemoryBytes(), 0,
        self.channel() + " stream " + self.streamId());
    coordinator.tell(new Hello(settings.jobId(), settings.memberId(), Hello.WORKER, self, controlRef, info, null));
  }

  private Behavior<Command> onStop() {
    mailbox.cancel();
    compute.execute(graphs::close);
    compute.shutdown();
    return Behaviors.same();
  }
}
