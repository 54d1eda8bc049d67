package io.vitfleet.protocol.link;

import io.aeron.Aeron;
import io.aeron.ChannelUri;
import io.aeron.CommonContext;
import io.aeron.ExclusivePublication;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.aeron.exceptions.AeronException;
import io.aeron.exceptions.RegistrationException;
import io.vitfleet.protocol.control.Endpoint;
import io.vitfleet.protocol.frame.DType;
import io.vitfleet.protocol.frame.DropCounters;
import io.vitfleet.protocol.frame.FrameKind;
import io.vitfleet.protocol.frame.ReceivedTensor;
import io.vitfleet.protocol.frame.TensorDescriptor;
import io.vitfleet.protocol.frame.TensorReassembler;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.agrona.CloseHelper;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * One member's data plane (worker, shard or feeder): subscriptions on its own {@link Endpoint} — its IPC channel and,
 * when it announces one, its UDP channel, polled by one subscriber thread — where every tensor meant for it arrives
 * whatever its kind and transport, and one exclusive publication per peer it sends to. Received tensors are checked
 * by one {@link TensorReassembler} (bad CRC, unknown job, stale plan: dropped and counted, on either transport),
 * copied to the heap and handed to the sink on the subscriber's thread.
 *
 * <p>The Aeron client connects to the media driver of its host ({@code aeronDir}). A link to a peer goes over IPC
 * when the peer's host identity is this member's, over UDP otherwise ({@link Transport#between}). {@link #send} may
 * be called from any thread; sends are serialised.
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

  /** Thrown when a tensor cannot be sent: the peer is gone, stuck or unreachable. The step cannot complete. */
  public static final class LinkException extends RuntimeException {
    LinkException(String message) {
      super(message);
    }
  }

  /**
   * Thrown by {@link #connect} when the media driver cannot bind the member's UDP address and port: another process
   * holds the port ({@link #portInUse}), or the address is not one of the host's.
   */
  public static final class UdpBindException extends IllegalStateException {
    private static final Pattern DRIVER_REASON = Pattern.compile("channel error - ([^(:]+)");
    private final String endpoint;
    private final String reason;

    UdpBindException(String memberId, String udpChannel, RegistrationException cause) {
      this(memberId, ChannelUri.parse(udpChannel).get(CommonContext.ENDPOINT_PARAM_NAME), reason(cause), cause);
    }

    private UdpBindException(String memberId, String endpoint, String reason, RegistrationException cause) {
      super("the data plane of " + memberId + " cannot bind UDP " + endpoint + ": " + reason, cause);
      this.endpoint = endpoint;
      this.reason = reason;
    }

    private static String reason(RegistrationException e) {
      Matcher m = DRIVER_REASON.matcher(String.valueOf(e.getMessage()));
      return m.find() ? m.group(1).trim() : String.valueOf(e.getMessage());
    }

    /** The {@code address:port} that could not be bound. */
    public String endpoint() {
      return endpoint;
    }

    /** The port of {@link #endpoint}. */
    public int port() {
      return Integer.parseInt(endpoint.substring(endpoint.lastIndexOf(':') + 1));
    }

    /** The operating system's reason, e.g. "Address already in use". */
    public String reason() {
      return reason;
    }

    /** Whether the port is held by another socket (rather than the address being wrong). */
    public boolean portInUse() {
      return reason.toLowerCase(Locale.ROOT).contains("in use");
    }
  }

  private final Aeron aeron;
  private final Endpoint self;
  private final long jobId;
  private final DropCounters drops = new DropCounters();
  private final TensorSubscriber subscriber;
  private final AgentRunner runner;
  /** The transports of {@link #subscriber}'s subscriptions, in its order: IPC, then UDP when announced. */
  private final List<Transport> receiving;
  private final Map<String, TensorPublisher> links = new HashMap<>();
  private final Map<String, Endpoint> linkEndpoints = new HashMap<>();
  /** Peer -> transport of its open link; read by metrics without the send lock, which a slow send may hold. */
  private final Map<String, Transport> linkTransports = new ConcurrentHashMap<>();
  private final IdleStrategy sendIdle = new BackoffIdleStrategy(10, 20, 1_000, MAX_PARK_NS);
  private ByteBuffer scratch = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);

  private DataPlane(Aeron aeron, Endpoint self, long jobId, Consumer<Tensor> sink) {
    this.aeron = aeron;
    this.self = self;
    this.jobId = jobId;
    TensorReassembler reassembler = new TensorReassembler(t -> sink.accept(copy(t)), drops).acceptJob(jobId);
    List<Subscription> subscriptions = new ArrayList<>();
    List<Transport> transports = new ArrayList<>();
    subscriptions.add(aeron.addSubscription(self.channel(), self.streamId()));
    transports.add(Transport.IPC);
    if (self.acceptsOtherHosts()) {
      try {
        subscriptions.add(aeron.addSubscription(self.udpChannel(), self.streamId()));
      } catch (RegistrationException e) {
        subscriptions.forEach(CloseHelper::quietClose);
        throw new UdpBindException(self.memberId(), self.udpChannel(), e);
      }
      transports.add(Transport.UDP);
    }
    this.receiving = List.copyOf(transports);
    this.subscriber = new TensorSubscriber(subscriptions, reassembler, TensorSubscriber.DEFAULT_FRAGMENT_LIMIT);
    this.runner = new AgentRunner(new BackoffIdleStrategy(10, 20, 1_000, MAX_PARK_NS),
        e -> System.err.println("data plane of " + self.memberId() + ": " + e), null, subscriber);
    AgentRunner.startOnThread(runner);
  }

  /**
   * Connects to the media driver in {@code aeronDir} and starts listening on {@code self}'s channels.
   *
   * @throws IllegalStateException naming the directory when no media driver answers there
   * @throws UdpBindException when {@code self}'s UDP address and port cannot be bound
   */
  public static DataPlane connect(String aeronDir, Endpoint self, long jobId, Consumer<Tensor> sink) {
    Aeron aeron;
    try {
      aeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(aeronDir));
    } catch (AeronException | IllegalStateException e) {
      throw new IllegalStateException("no Aeron media driver in " + aeronDir + " (" + e.getMessage()
          + "); start the member through `vitfleet up`, or point --aeron-dir at a running driver", e);
    }
    try {
      return new DataPlane(aeron, self, jobId, sink);
    } catch (RuntimeException e) {
      CloseHelper.quietClose(aeron);
      throw e;
    }
  }

  /** An IPC-only endpoint for member {@code memberId} on stream {@code streamId}, on {@link Endpoint#LOCAL_HOST}. */
  public static Endpoint ipcEndpoint(String memberId, int streamId) {
    return new Endpoint(memberId, LinkChannel.ipc(DEFAULT_TERM_LENGTH, LinkChannel.DEFAULT_IPC_MTU), streamId);
  }

  /**
   * The endpoint of member {@code memberId} on host {@code host}: IPC as {@link #ipcEndpoint}, and, when
   * {@code udpAddress} ({@code address:port}) is not null, UDP there with LinkChannel's UDP term length and
   * {@code udpMtu} (docs/cluster.md: 8 KiB fits jumbo frames, 1408 a 1500-byte network).
   */
  public static Endpoint endpoint(String memberId, int streamId, String host, String udpAddress, int udpMtu) {
    return new Endpoint(memberId, host, LinkChannel.ipc(DEFAULT_TERM_LENGTH, LinkChannel.DEFAULT_IPC_MTU),
        udpAddress == null ? null : LinkChannel.udp(udpAddress, LinkChannel.DEFAULT_TERM_LENGTH, udpMtu), streamId);
  }

  public Endpoint self() {
    return self;
  }

  /** This member's host identity: peers with the same one are reached over IPC, the others over UDP. */
  public String host() {
    return self.host();
  }

  /** Frames received so far over {@code transport} (dropped ones included); 0 for a transport not listened on. */
  public long framesReceived(Transport transport) {
    int i = receiving.indexOf(transport);
    return i < 0 ? 0 : subscriber.framesReceived(i);
  }

  /** A snapshot: the peers this member has an open link to, with the transport each uses, by peer id. */
  public Map<String, Transport> linkTransports() {
    return new TreeMap<>(linkTransports);
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
      linkTransports.remove(peer.memberId());
      throw new LinkException(d.kind() + " of step " + d.step() + " to " + peer.memberId() + " failed: "
          + Publication.errorString(result));
    }
  }

  private TensorPublisher link(Endpoint peer) {
    TensorPublisher link = links.get(peer.memberId());
    if (link != null && !peer.equals(linkEndpoints.get(peer.memberId()))) {
      CloseHelper.quietClose(links.remove(peer.memberId()));
      linkTransports.remove(peer.memberId());
      link = null;
    }
    if (link == null) {
      Transport transport;
      try {
        transport = Transport.between(self.host(), peer);
      } catch (Transport.UnreachableException e) {
        throw new LinkException(e.getMessage());
      }
      String channel = transport.channelOf(peer);
      ExclusivePublication p = aeron.addExclusivePublication(channel, peer.streamId());
      long deadline = System.nanoTime() + CONNECT_TIMEOUT_NS;
      sendIdle.reset();
      while (!p.isConnected()) {
        if (System.nanoTime() - deadline > 0) {
          p.close();
          throw new LinkException("no subscriber at " + channel + " stream " + peer.streamId() + " ("
              + peer.memberId() + " on host " + peer.host() + ", by " + transport.label() + ") after "
              + CONNECT_TIMEOUT_NS / 1_000_000_000L + " s: is " + peer.memberId() + " running?");
        }
        sendIdle.idle();
      }
      link = new TensorPublisher(p, sendIdle);
      links.put(peer.memberId(), link);
      linkEndpoints.put(peer.memberId(), peer);
      linkTransports.put(peer.memberId(), transport);
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
      linkTransports.clear();
    }
    CloseHelper.quietClose(runner);
    CloseHelper.quietClose(aeron);
  }
}
