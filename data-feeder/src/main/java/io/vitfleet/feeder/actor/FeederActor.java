package io.vitfleet.feeder.actor;

import io.vitfleet.feeder.BatchPlan;
import io.vitfleet.feeder.TrainingBatches;
import io.vitfleet.protocol.control.Abort;
import io.vitfleet.protocol.control.Begin;
import io.vitfleet.protocol.control.ControlMessage;
import io.vitfleet.protocol.control.Hello;
import io.vitfleet.protocol.control.Install;
import io.vitfleet.protocol.control.JobScoped;
import io.vitfleet.protocol.control.Plan;
import io.vitfleet.protocol.control.Ready;
import io.vitfleet.protocol.link.DataPlane;
import java.time.Duration;
import java.util.function.Function;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.PreRestart;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * The data-feeder member of the cluster (docs/cluster.md): introduces itself to the coordinator every second,
 * installs the plans it is sent (answering {@link Ready}), and on {@link Begin} streams the step's microbatches —
 * {@link TrainingBatches#fill}, the very function the one-process trainer uses — to the workers that own them. The
 * sending runs on a thread of its own ({@link MicrobatchStreamer}), so the actor keeps answering while tensors flow;
 * an {@link Abort} stops the step at the next microbatch boundary. The feeder keeps no state beyond the installed
 * plan: a restarted feeder is re-installed by the coordinator and sends the same bytes.
 *
 * <p>Read-ahead: right after step t's microbatches it streams step t + 1's under the same plan, so that they already
 * wait in the workers' mailboxes when Begin(t + 1) arrives, and Begin(t + 1) does not send them again. Never more
 * than one step ahead (bounded memory at the workers). After an abort the coordinator always installs a new plan
 * version, so read-ahead frames of an aborted plan are dropped by every receiver; the last step's read-ahead (one
 * step past the job) is never taken and is dropped with the workers' mailboxes.
 */
public final class FeederActor {
  /** How often the feeder says {@link Hello}: the coordinator's heartbeat and re-introduction (cluster.md). */
  public static final Duration HELLO_INTERVAL = Duration.ofSeconds(1);
  /**
   * How long the idle sending thread parks between looks for work: 1 ms. Longer saves wake-ups on a 2-core host but
   * delays the first microbatch of a step by up to as much.
   */
  static final long SENDER_MAX_PARK_NS = 1_000_000L;
  private static final long NOT_BEGUN = -1;

  /** What the feeder accepts. */
  public sealed interface Command {
  }

  /** A control-plane message (Install, Begin, Abort); the reference in the feeder's Hello wraps them in this. */
  public record Control(ControlMessage message) implements Command {
  }

  private enum HelloTick implements Command {
    INSTANCE
  }

  private record FromSender(MicrobatchStreamer.Event event) implements Command {
  }

  private record SenderCrashed(Throwable error) implements Command {
  }

  private final ActorContext<Command> context;
  private final FeederSettings settings;
  private final BatchPlan job;
  private final ActorRef<ControlMessage> coordinator;
  private final DataPlane dataPlane;
  private final MicrobatchStreamer streamer;
  private final AgentRunner sender;
  private final Hello hello;

  private FeederActor(ActorContext<Command> context, FeederSettings settings, TrainingBatches batches,
                      ActorRef<ControlMessage> coordinator, DataPlane dataPlane, ActorRef<ControlMessage> control) {
    this.context = context;
    this.settings = settings;
    this.job = batches.plan();
    this.coordinator = coordinator;
    this.dataPlane = dataPlane;
    ActorRef<Command> self = context.getSelf();
    this.streamer = new MicrobatchStreamer(batches, dataPlane, settings.memberId(), e -> self.tell(new FromSender(e)));
    this.sender = new AgentRunner(new BackoffIdleStrategy(10, 20, 1_000, SENDER_MAX_PARK_NS),
        e -> self.tell(new SenderCrashed(e)), null, streamer);
    this.hello = new Hello(settings.jobId(), settings.memberId(), Hello.FEEDER, dataPlane.self(), control, null, null);
  }

  /**
   * The feeder of {@code settings}'s job, sending {@code batches}' microbatches over {@code dataPlane}.
   *
   * @param batches owned by the feeder's sending thread from now on (not thread-safe)
   * @param coordinator where Hello and Ready go: in a cluster, the coordinator singleton's proxy
   * @param dataPlane the feeder's own data plane; the caller closes it after the actor stopped
   */
  public static Behavior<Command> create(FeederSettings settings, TrainingBatches batches,
                                         ActorRef<ControlMessage> coordinator, DataPlane dataPlane) {
    return create(settings, batches, coordinator, dataPlane, null);
  }

  /**
   * As {@link #create(FeederSettings, TrainingBatches, ActorRef, DataPlane)}, and registers the feeder's control
   * reference (the one its Hello carries) with the Receptionist under {@code memberKey} when that is not null.
   */
  public static Behavior<Command> create(FeederSettings settings, TrainingBatches batches,
                                         ActorRef<ControlMessage> coordinator, DataPlane dataPlane,
                                         ServiceKey<ControlMessage> memberKey) {
    if (dataPlane.jobId() != settings.jobId()) {
      throw new IllegalArgumentException("feeder " + settings.memberId() + " is set up for job " + settings.jobId()
          + " but its data plane for job " + dataPlane.jobId() + "; connect it with FeederSettings.connectDataPlane");
    }
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> {
      // Named after this class: the default name comes from the behaviour's lambda, outside the io.vitfleet loggers.
      context.setLoggerName(FeederActor.class);
      ActorRef<ControlMessage> control = context.messageAdapter(ControlMessage.class, Control::new);
      if (memberKey != null) {
        context.getSystem().receptionist().tell(Receptionist.register(memberKey, control));
      }
      FeederActor feeder = new FeederActor(context, settings, batches, coordinator, dataPlane, control);
      return feeder.start(timers);
    }));
  }

  private Behavior<Command> start(TimerScheduler<Command> timers) {
    AgentRunner.startOnThread(sender);
    coordinator.tell(hello);
    timers.startTimerWithFixedDelay(HelloTick.INSTANCE, HELLO_INTERVAL);
    return awaitingPlan();
  }

  /** No plan yet: steps cannot begin. */
  private Behavior<Command> awaitingPlan() {
    return receive(message -> {
      if (message instanceof Install install) {
        return install(install);
      }
      if (message instanceof Begin begin) {
        context.getLog().warn("{}: Begin of step {} under plan {} before any plan was installed; ignored",
            settings.memberId(), begin.step(), begin.planVersion());
      }
      return Behaviors.same();
    });
  }

  /**
   * Plan {@code installed} is in force; {@code begun} is the last step begun under it and not aborted, {@code ahead}
   * the step streamed ahead of its Begin under it ({@link #NOT_BEGUN} when none).
   */
  private Behavior<Command> planned(Install installed, long begun, long ahead) {
    int version = installed.plan().version();
    return receive(message -> {
      if (message instanceof Install install) {
        if (install.plan().version() == version) {
          coordinator.tell(new Ready(settings.jobId(), version, settings.memberId()));
          // The next Begin sends its step again even if it went out ahead (a second copy only replaces the first).
          return planned(installed, begun, NOT_BEGUN);
        }
        return install(install);
      }
      if (message instanceof Begin begin) {
        if (begin.planVersion() != version) {
          context.getLog().warn("{}: Begin of step {} under plan {} but plan {} is installed; ignored",
              settings.memberId(), begin.step(), begin.planVersion(), version);
          return Behaviors.same();
        }
        long t = begin.step();
        if (t == begun) {
          return Behaviors.same();
        }
        if (t != ahead) {
          streamer.submit(installed, t);
        }
        streamer.submit(installed, t + 1);
        return planned(installed, t, t + 1);
      }
      if (message instanceof Abort abort) {
        long t = abort.step();
        streamer.abort(t);
        streamer.abort(t + 1);
        return planned(installed, t == begun ? NOT_BEGUN : begun, t == ahead || t + 1 == ahead ? NOT_BEGUN : ahead);
      }
      return Behaviors.same();
    });
  }

  /** The behaviour every state shares (heartbeat, the sender's reports, shutdown) around its control handling. */
  private Behavior<Command> receive(Function<ControlMessage, Behavior<Command>> onControl) {
    return Behaviors.receive(Command.class)
        .onMessage(Control.class, m -> ofThisJob(m.message()) ? onControl.apply(m.message())
            : Behaviors.same())
        .onMessageEquals(HelloTick.INSTANCE, () -> {
          coordinator.tell(hello);
          return Behaviors.same();
        })
        .onMessage(FromSender.class, m -> {
          report(m.event());
          return Behaviors.same();
        })
        .onMessage(SenderCrashed.class, m -> {
          context.getLog().error("{}: the sending thread failed; the step in flight will not complete",
              settings.memberId(), m.error());
          return Behaviors.same();
        })
        .onSignal(PostStop.class, signal -> stopSending())
        .onSignal(PreRestart.class, signal -> stopSending())
        .build();
  }

  /** Stops the sending thread; a step in flight ends at its current send (at most the data plane's timeouts). */
  private Behavior<Command> stopSending() {
    sender.close();
    return Behaviors.same();
  }

  private boolean ofThisJob(ControlMessage message) {
    if (!(message instanceof JobScoped scoped)) {
      return false;
    }
    long jobId = scoped.jobId();
    if (jobId != settings.jobId()) {
      context.getLog().warn("{}: {} of job {} ignored; this feeder serves job {}", settings.memberId(),
          message.getClass().getSimpleName(), jobId, settings.jobId());
      return false;
    }
    return true;
  }

  /**
   * Installs {@code install} and answers Ready, dropping the steps of the previous plan still being sent; or refuses
   * it (no Ready, the previous plan stays) when it does not fit the job.
   */
  private Behavior<Command> install(Install install) {
    Plan plan = install.plan();
    String problem = problemWith(install);
    if (problem != null) {
      context.getLog().error("{}: refusing plan {}: {}", settings.memberId(), plan.version(), problem);
      return Behaviors.same();
    }
    streamer.cancelAll();
    dataPlane.acceptPlan(plan.version());
    coordinator.tell(new Ready(settings.jobId(), plan.version(), settings.memberId()));
    context.getLog().info("{}: plan {} installed (P={}, D={}) from step {}", settings.memberId(), plan.version(),
        plan.pipelineDepth(), plan.dataParallel(), install.step());
    return planned(install, NOT_BEGUN, NOT_BEGUN);
  }

  /** Why the feeder cannot serve {@code install}'s plan, or null when it can. */
  private String problemWith(Install install) {
    Plan plan = install.plan();
    if (plan.microbatchSize() != job.microbatch()) {
      return "its microbatches hold " + plan.microbatchSize() + " samples but the job's hold " + job.microbatch()
          + "; the coordinator and the feeder must run the same job";
    }
    int groups = 0;
    for (Plan.ReplicaGroups rg : plan.replicaGroups()) {
      for (int g : rg.groups()) {
        if (g >= job.groups()) {
          return "replica " + rg.replica() + " has group " + g + " but the job has G=" + job.groups() + " groups";
        }
        groups++;
      }
    }
    if (groups != job.groups()) {
      return "its replicas process " + groups + " groups but every step has G=" + job.groups();
    }
    try {
      for (int r = 0; r < plan.dataParallel(); r++) {
        install.workerEndpoint(r, 0);
        install.workerEndpoint(r, plan.pipelineDepth() - 1);
      }
    } catch (IllegalArgumentException e) {
      return e.getMessage();
    }
    return null;
  }

  private void report(MicrobatchStreamer.Event event) {
    if (event instanceof MicrobatchStreamer.StepStreamed s) {
      if (s.aborted()) {
        context.getLog().info("{}: step {} (plan {}) aborted after {} of {} microbatches", settings.memberId(),
            s.step(), s.planVersion(), s.sent(), s.planned());
      } else {
        context.getLog().debug("{}: step {} (plan {}): {} of {} microbatches sent", settings.memberId(), s.step(),
            s.planVersion(), s.sent(), s.planned());
      }
    } else if (event instanceof MicrobatchStreamer.SendFailed f) {
      context.getLog().warn("{}: microbatch {} of step {} (plan {}) to {} failed: {}; the rest of replica {}'s "
          + "microbatches of the step are skipped", settings.memberId(), f.microbatch(), f.step(), f.planVersion(),
          f.peer(), f.reason(), f.replica());
    } else if (event instanceof MicrobatchStreamer.StepFailed f) {
      context.getLog().error("{}: microbatch {} of step {} (plan {}) could not be produced; the step is dropped",
          settings.memberId(), f.microbatch(), f.step(), f.planVersion(), f.cause());
    }
  }
}
