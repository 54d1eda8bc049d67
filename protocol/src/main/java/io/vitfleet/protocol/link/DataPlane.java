package io.vitfleet.protocol.link;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.aeron.exceptions.AeronException;
import io.vitfleet.protocol.control.Endpoint;
import io.vitfleet.protocol.frame.DType;
import io.vitfleet.protocol.frame.DropCounters;
import io.vitfleet.protocol.frame.FrameKind;
import io.vitfleet.protocol.frame.ReceivedTensor;
import io.vitfleet.protocol.frame.TensorDescriptor;
import io.vitfleet.protocol.frame.TensorReassembler;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.agrona.CloseHelper;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * One member's data plane (worker, shard or feeder): a single subscription on its own {@link Endpoint}, where every
 * tensor meant for it arrives whatever its kind, and one exclusive publication per peer it sends to. Received
 * tensors are checked by a {@link TensorReassembler} (bad CRC, unknown job, stale plan: dropped and counted), copied
 * to the heap and handed to the sink on the subscriber's thread.
 *
 * <p>The Aeron client connects to the media driver of its host ({@code aeronDir}): {@code vitfleet up} runs one for
 * all processes of the machine, so links between them are IPC. {@link #send} may be called from any thread; sends
 * are serialised.
 */
public final class DataPlane implements AutoCloseable {
  /**
   * Term length of the cluster's links: 8 MiB. Each publication maps 3 terms (24 MiB of /dev/shm); a publisher runs
   * at most half a term (4 MiB) ahead of its subscriber, enough for a parameter tensor or activation in flight.
   */
  public static final int DEFAULT_TERM_LENGTH = 8 * 1024 * 1024;
  /** How long a first send waits for the peer's subscription to appear: 20 s (a restarting shard or a new worker). */
  public static final long CONNECT_TIMEOUT_NS = 20_000_000_000L;
  /** Subscriber idle: spin briefly, then park up to 1 ms; a 2-core machine cannot afford spinning pollers. */
  private static final long MAX_PARK_NS = 1_000_000L;

  /** A received tensor, copied out of the transport: floats for F32, ints for I32. */
  public record Tensor(FrameKind kind, long step, int planVersion, int index, int stage, int tensorId, DType dtype,
                       int[] shape, float[] floats, int[] ints) {
  }

  /** Thrown when a tensor cannot be sent: the peer is gone or stuck. The step cannot complete. */
  public static final class LinkException extends RuntimeException {
    LinkException(String message) {
      super(message);
    }
  }

  private final Aeron aeron;
  private final Endpoint self;
  private final long jobId;
  private final DropCounters drops = new DropCounters();
  private final TensorSubscriber subscriber;
  private final AgentRunner runner;
  private final Map<String, TensorPublisher> links = new HashMap<>();
  private final Map<String, Endpoint> linkEndpoints = new HashMap<>();
  private final IdleStrategy sendIdle = new BackoffIdleStrategy(10, 20, 1_000, MAX_PARK_NS);
  private ByteBuffer scratch = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);

  private DataPlane(Aeron aeron, Endpoint self, long jobId, Consumer<Tensor> sink) {
    this.aeron = aeron;
    this.self = self;
    this.jobId = jobId;
    TensorReassembler reassembler = new TensorReassembler(t -> sink.accept(copy(t)), drops).acceptJob(jobId);
    Subscription subscription = aeron.addSubscription(self.channel(), self.streamId());
    this.subscriber = new TensorSubscriber(subscription, reassembler);
    this.runner = new AgentRunner(new BackoffIdleStrategy(10, 20, 1_000, MAX_PARK_NS),
        e -> System.err.println("data plane of " + self.memberId() + ": " + e), null, subscriber);
    AgentRunner.startOnThread(runner);
  }

  /**
   * Connects to the media driver in {@code aeronDir} and starts listening on {@code self}.
   *
   * @throws IllegalStateException naming the directory when no media driver answers there
   */
  public static DataPlane connect(String aeronDir, Endpoint self, long jobId, Consumer<Tensor> sink) {
    Aeron aeron;
    try {
      aeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(aeronDir));
    } catch (AeronException | IllegalStateException e) {
      throw new IllegalStateException("no Aeron media driver in " + aeronDir + " (" + e.getMessage()
          + "); start the member through `vitfleet up`, or point --aeron-dir at a running driver", e);
    }
    return new DataPlane(aeron, self, jobId, sink);
  }

  /** An IPC endpoint for member {@code memberId} on stream {@code streamId}. */
  public static Endpoint ipcEndpoint(String memberId, int streamId) {
    return new Endpoint(memberId, LinkChannel.ipc(DEFAULT_TERM_LENGTH, LinkChannel.DEFAULT_IPC_MTU), streamId);
  }

  public Endpoint self() {
    return self;
  }

  public long jobId() {
    return jobId;
  }

  /** Frames of any other plan version are dropped from now on; returns once the subscriber thread applied it. */
  public void acceptPlan(int version) {
    subscriber.requestPlanVersion(version);
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (subscriber.appliedPlanVersion() != version && System.nanoTime() - deadline < 0) {
      Thread.onSpinWait();
      Thread.yield();
    }
  }

  /** Forgets partly received tensors of steps before {@code step}, after an abort. */
  public void abandonStepsBefore(long step) {
    subscriber.requestAbandonStepsBefore(step);
  }

  /** Frames dropped so far, by reason. */
  public DropCounters drops() {
    return drops;
  }

  /** Sends a float32 tensor to {@code peer}; {@code d}'s job id is set here. */
  public void send(Endpoint peer, TensorDescriptor d, float[] data, int offset, int length) {
    synchronized (this) {
      ByteBuffer b = scratch(length * Float.BYTES);
      b.asFloatBuffer().put(data, offset, length);
      publish(peer, d.jobId(jobId).dtype(DType.F32), length * Float.BYTES);
    }
  }

  /** Sends a whole float32 array. */
  public void send(Endpoint peer, TensorDescriptor d, float[] data) {
    send(peer, d, data, 0, data.length);
  }

  /** Sends an int32 tensor to {@code peer}. */
  public void send(Endpoint peer, TensorDescriptor d, int[] data) {
    synchronized (this) {
      ByteBuffer b = scratch(data.length * Integer.BYTES);
      b.asIntBuffer().put(data);
      publish(peer, d.jobId(jobId).dtype(DType.I32), data.length * Integer.BYTES);
    }
  }

  private ByteBuffer scratch(int bytes) {
    if (scratch.capacity() < bytes) {
      scratch = ByteBuffer.allocateDirect(Math.max(bytes, scratch.capacity() * 2)).order(ByteOrder.LITTLE_ENDIAN);
    }
    scratch.clear();
    return scratch;
  }

  private void publish(Endpoint peer, TensorDescriptor d, int bytes) {
    if (d.tensorBytes() != bytes) {
      throw new IllegalArgumentException(d.kind() + " tensor " + d.tensorId() + " to " + peer.memberId()
          + ": shape holds " + d.tensorBytes() + " bytes but " + bytes + " were given");
    }
    TensorPublisher link = link(peer);
    long result = link.publish(d, new UnsafeBuffer(scratch, 0, Math.max(bytes, 1)), 0);
    if (result < 0) {
      // A link that failed once is rebuilt on the next send: the peer may have restarted.
      CloseHelper.quietClose(links.remove(peer.memberId()));
      throw new LinkException(d.kind() + " of step " + d.step() + " to " + peer.memberId() + " failed: "
          + Publication.errorString(result));
    }
  }

  private TensorPublisher link(Endpoint peer) {
    TensorPublisher link = links.get(peer.memberId());
    if (link != null && !peer.equals(linkEndpoints.get(peer.memberId()))) {
      CloseHelper.quietClose(links.remove(peer.memberId()));
      link = null;
    }
    if (link == null) {
      ExclusivePublication p = aeron.addExclusivePublication(peer.channel(), peer.streamId());
      long deadline = System.nanoTime() + CONNECT_TIMEOUT_NS;
      sendIdle.reset();
      while (!p.isConnected()) {
        if (System.nanoTime() - deadline > 0) {
          p.close();
          throw new LinkException("no subscriber at " + peer + " after "
              + CONNECT_TIMEOUT_NS / 1_000_000_000L + " s: is " + peer.memberId() + " running?");
        }
        sendIdle.idle();
      }
      link = new TensorPublisher(p, sendIdle);
      links.put(peer.memberId(), link);
      linkEndpoints.put(peer.memberId(), peer);
    }
    return link;
  }

  private static Tensor copy(ReceivedTensor t) {
    int[] shape = new int[t.rank()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = t.dim(i);
    }
    ByteBuffer bytes = ByteBuffer.allocate(t.byteLength()).order(ByteOrder.LITTLE_ENDIAN);
    t.data().getBytes(0, bytes, t.byteLength());
    bytes.flip();
    float[] floats = null;
    int[] ints = null;
    if (t.dtype() == DType.I32) {
      ints = new int[t.byteLength() / Integer.BYTES];
      bytes.asIntBuffer().get(ints);
    } else if (t.dtype() == DType.F32) {
      floats = new float[t.byteLength() / Float.BYTES];
      bytes.asFloatBuffer().get(floats);
    } else {
      throw new IllegalArgumentException("unsupported dtype " + t.dtype() + " for " + t.kind());
    }
    return new Tensor(t.kind(), t.step(), t.planVersion(), t.microbatchOrGroup(), t.stage(), t.tensorId(),
        t.dtype(), shape, floats, ints);
  }

  @Override
  public void close() {
    synchronized (this) {
      links.values().forEach(CloseHelper::quietClose);
      links.clear();
    }
    CloseHelper.quietClose(runner);
    CloseHelper.quietClose(aeron);
  }
}
