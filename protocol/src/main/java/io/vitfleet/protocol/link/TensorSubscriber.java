package io.vitfleet.protocol.link;

import io.aeron.FragmentAssembler;
import io.aeron.Subscription;
import io.aeron.logbuffer.FragmentHandler;
import io.vitfleet.protocol.frame.TensorReassembler;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.agrona.concurrent.Agent;

/**
 * Receives tensors from one or more Aeron {@link Subscription}s (a member's IPC and UDP channels): an {@link Agent}
 * whose duty cycle polls fragments from each, lets Aeron reassemble messages larger than an MTU, and hands every
 * frame to one {@link TensorReassembler}, which checks it, drops and counts what must not be applied, and delivers
 * completed tensors — whichever subscription it came by, since the frame header alone identifies a tensor. Run it
 * with an {@code AgentRunner} (or invoker); it owns and closes the subscriptions. It counts the frames each
 * subscription delivered, so an operator can see which transport carried the traffic.
 *
 * <p>Plan changes and step aborts come from the control plane on other threads: they are requested here and
 * applied by the agent's own thread at the start of its next duty cycle, so the reassembler stays single-threaded.
 */
public final class TensorSubscriber implements Agent {
  /**
   * Fragments per poll: 8 (Aeron's samples use 10). The subscriber's position, which frees log space for an IPC
   * publisher and opens a UDP receiver's window, advances only when a poll returns: at the largest MTU 8 fragments
   * are 512 KiB, so space goes back to the publisher several times per window (half a term: 4 MiB on the cluster's
   * 8 MiB terms) instead of once per poll of up to a whole window, as 64 allowed. It also keeps a duty cycle short,
   * so requested plan changes apply promptly; a poll costs far less than copying 512 KiB.
   */
  public static final int DEFAULT_FRAGMENT_LIMIT = 8;
  /** Initial size of Aeron's reassembly buffer for multi-fragment frames; it grows as needed. */
  private static final int ASSEMBLY_BUFFER_BYTES = 1024 * 1024;
  private static final long NO_REQUEST = Long.MIN_VALUE;

  /**
   * One subscription with its own fragment assembler (Aeron keys partial messages by session id, and the session ids
   * of two media drivers' publications may collide) and its frame count: a plain field bumped by the agent, and a
   * published copy for other threads, written once per poll that delivered anything.
   */
  private static final class Source {
    final Subscription subscription;
    final FragmentHandler handler;
    long frames;
    final AtomicLong publishedFrames = new AtomicLong();

    Source(Subscription subscription, TensorReassembler reassembler) {
      this.subscription = subscription;
      // Direct assembly buffer: the frame's CRC32C then runs on off-heap memory like unfragmented frames.
      this.handler = new FragmentAssembler((buffer, offset, length, header) -> {
        frames++;
        reassembler.onFrame(buffer, offset, length);
      }, ASSEMBLY_BUFFER_BYTES, true);
    }

    int poll(int fragmentLimit) {
      int n = subscription.poll(handler, fragmentLimit);
      if (n > 0) {
        publishedFrames.lazySet(frames);
      }
      return n;
    }
  }

  private final Source[] sources;
  private final TensorReassembler reassembler;
  private final int fragmentLimit;
  private final AtomicLong requestedPlanVersion = new AtomicLong(NO_REQUEST);
  private final AtomicLong requestedAbandonBefore = new AtomicLong(NO_REQUEST);
  private volatile int appliedPlanVersion;

  public TensorSubscriber(Subscription subscription, TensorReassembler reassembler) {
    this(subscription, reassembler, DEFAULT_FRAGMENT_LIMIT);
  }

  public TensorSubscriber(Subscription subscription, TensorReassembler reassembler, int fragmentLimit) {
    this(List.of(subscription), reassembler, fragmentLimit);
  }

  /** One agent for several subscriptions, each polled up to {@code fragmentLimit} fragments per duty cycle. */
  public TensorSubscriber(List<Subscription> subscriptions, TensorReassembler reassembler, int fragmentLimit) {
    if (subscriptions.isEmpty()) {
      throw new IllegalArgumentException("a tensor subscriber needs at least one subscription");
    }
    this.sources = subscriptions.stream().map(s -> new Source(s, reassembler)).toArray(Source[]::new);
    this.reassembler = reassembler;
    this.fragmentLimit = fragmentLimit;
    this.appliedPlanVersion = reassembler.planVersion();
  }

  /** From any thread: frames of other plan versions are dropped once the agent has applied this. */
  public void requestPlanVersion(int version) {
    requestedPlanVersion.set(version);
  }

  /** The plan version frames are currently checked against; lags a request until the agent has applied it. */
  public int appliedPlanVersion() {
    return appliedPlanVersion;
  }

  /** From any thread: abandon unfinished tensors of steps before {@code step} (after an abort). */
  public void requestAbandonStepsBefore(long step) {
    requestedAbandonBefore.set(step);
  }

  /** The first (or only) subscription. */
  public Subscription subscription() {
    return sources[0].subscription;
  }

  /** Frames delivered so far by subscription {@code index} (in the order given), dropped ones included. */
  public long framesReceived(int index) {
    return sources[index].publishedFrames.get();
  }

  @Override
  public int doWork() {
    int work = applyRequests();
    for (Source s : sources) {
      work += s.poll(fragmentLimit);
    }
    return work;
  }

  private int applyRequests() {
    int work = 0;
    // A plain read first: the common case (no request) costs no atomic write per duty cycle.
    long version = requestedPlanVersion.get() == NO_REQUEST ? NO_REQUEST : requestedPlanVersion.getAndSet(NO_REQUEST);
    if (version != NO_REQUEST) {
      reassembler.planVersion((int) version);
      appliedPlanVersion = (int) version;
      work++;
    }
    long step = requestedAbandonBefore.get() == NO_REQUEST ? NO_REQUEST : requestedAbandonBefore.getAndSet(NO_REQUEST);
    if (step != NO_REQUEST) {
      reassembler.abandonStepsBefore(step);
      work++;
    }
    return work;
  }

  @Override
  public void onClose() {
    for (Source s : sources) {
      s.subscription.close();
    }
  }

  @Override
  public String roleName() {
    StringBuilder b = new StringBuilder("tensor-subscriber[");
    for (Source s : sources) {
      b.append(s.subscription.channel()).append(", ");
    }
    return b.append("stream ").append(sources[0].subscription.streamId()).append(']').toString();
  }
}
