package io.vitfleet.protocol.link;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aeron.ExclusivePublication;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.vitfleet.protocol.frame.DType;
import io.vitfleet.protocol.frame.DropCounters;
import io.vitfleet.protocol.frame.DropReason;
import io.vitfleet.protocol.frame.FrameHeader;
import io.vitfleet.protocol.frame.FrameKind;
import io.vitfleet.protocol.frame.ReceivedTensor;
import io.vitfleet.protocol.frame.TensorBytes;
import io.vitfleet.protocol.frame.TensorChunker;
import io.vitfleet.protocol.frame.TensorDescriptor;
import io.vitfleet.protocol.frame.TensorReassembler;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.agrona.CloseHelper;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** System tests: a real embedded media driver, real publications and subscriptions, small tensors. */
class TensorLinkTest {
  private static final long JOB = 0xFEEDL;
  private static final int PLAN = 5;
  /** 1 MiB terms and a 4 KiB MTU: a 100 KB tensor becomes ~26 chunks, and term/8 = 128 KiB allows big frames. */
  private static final int TERM = 1024 * 1024;
  private static final int MTU = 4096;
  private static final long WAIT_NS = 10_000_000_000L;
  private static final AtomicInteger STREAMS = new AtomicInteger(1000);

  @TempDir
  static Path tmp;
  private static EmbeddedMediaDriver driver;
  private static final Queue<Throwable> ERRORS = new ConcurrentLinkedQueue<>();

  private final Queue<Received> received = new ConcurrentLinkedQueue<>();
  private final DropCounters drops = new DropCounters();
  private TensorSubscriber subscriber;
  private AgentRunner runner;
  private TensorPublisher publisher;

  private record Received(int planVersion, long step, int[] shape, float[] values) {
  }

  @BeforeAll
  static void startDriver() {
    driver = EmbeddedMediaDriver.launch(tmp.resolve("aeron"), EmbeddedMediaDriver.Settings.DEFAULTS, ERRORS::add);
  }

  @AfterAll
  static void stopDriver() {
    CloseHelper.close(driver);
  }

  @AfterEach
  void closeLink() {
    CloseHelper.closeAll(publisher, runner);
    assertTrue(ERRORS.isEmpty(), () -> "errors in the link: " + ERRORS);
  }

  private void onTensor(ReceivedTensor t) {
    int[] shape = new int[t.rank()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = t.dim(i);
    }
    received.add(new Received(t.planVersion(), t.step(), shape, TensorBytes.toFloats(t.data(), 0, t.byteLength())));
  }

  /** Subscriber first (started on its own thread), then the publisher, connected. */
  private void open(String channel, int maxFrameLength, boolean startSubscriber) {
    int stream = STREAMS.incrementAndGet();
    Subscription subscription = driver.aeron().addSubscription(channel, stream);
    TensorReassembler reassembler = new TensorReassembler(this::onTensor, drops).acceptJob(JOB);
    reassembler.planVersion(PLAN);
    subscriber = new TensorSubscriber(subscription, reassembler);
    runner = new AgentRunner(new BackoffIdleStrategy(), ERRORS::add, null, subscriber);
    if (startSubscriber) {
      AgentRunner.startOnThread(runner);
    }
    ExclusivePublication publication = driver.aeron().addExclusivePublication(channel, stream);
    int frameLength = maxFrameLength > 0 ? maxFrameLength : publication.maxPayloadLength();
    publisher = new TensorPublisher(publication, new BackoffIdleStrategy(), frameLength, 200_000_000L);
    awaitTrue(publisher::isConnected, "publisher never connected to " + channel);
  }

  private static void awaitTrue(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + WAIT_NS;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError(what);
      }
      Thread.onSpinWait();
      Thread.yield();
    }
  }

  private static float[] values(int n, int seed) {
    float[] v = new float[n];
    Random r = new Random(seed);
    for (int i = 0; i < n; i++) {
      v[i] = (float) r.nextGaussian();
    }
    v[0] = Float.NaN;
    v[1] = -0.0f;
    return v;
  }

  private static TensorDescriptor activation(int plan, long step, int... shape) {
    return new TensorDescriptor().jobId(JOB).planVersion(plan).step(step).microbatchOrGroup(3).stage(1)
        .kind(FrameKind.ACTIVATION).tensorId(7).dtype(DType.F32).shape(shape);
  }

  private void sendAndExpectBitExact(TensorDescriptor d, float[] v, int minChunks) {
    long chunks = publisher.publish(d, TensorBytes.ofFloats(v), 0);
    assertTrue(chunks >= minChunks, "expected at least " + minChunks + " chunks, got " + chunks);
    awaitTrue(() -> !received.isEmpty(), "tensor never completed; drops " + drops);
    Received r = received.poll();
    assertArrayEquals(toBits(v), toBits(r.values()), "tensor not delivered bit-exact");
    assertArrayEquals(new int[] {d.dim(0), d.dim(1)}, r.shape());
    assertEquals(d.step(), r.step());
  }

  private static int[] toBits(float[] v) {
    int[] bits = new int[v.length];
    for (int i = 0; i < v.length; i++) {
      bits[i] = Float.floatToRawIntBits(v[i]);
    }
    return bits;
  }

  private static int freeUdpPort() throws Exception {
    try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Test
  void shouldDeliverAMultiChunkTensorBitExactOverIpc() {
    open(LinkChannel.ipc(TERM, MTU), 0, true);
    sendAndExpectBitExact(activation(PLAN, 1, 100, 257), values(100 * 257, 1), 20);
    sendAndExpectBitExact(activation(PLAN, 2, 3, 5), values(15, 2), 1);
    assertEquals(0, drops.total());
  }

  @Test
  void shouldDeliverAMultiChunkTensorBitExactOverUdp() throws Exception {
    open(LinkChannel.udp("127.0.0.1:" + freeUdpPort(), TERM, MTU), 0, true);
    sendAndExpectBitExact(activation(PLAN, 1, 100, 257), values(100 * 257, 3), 20);
    assertEquals(0, drops.total());
  }

  @Test
  void shouldDeliverChunksLargerThanTheMtuThatAeronFragmentsAndReassembles() {
    open(LinkChannel.ipc(TERM, MTU), TERM / 8, true);
    assertTrue(publisher.chunkPayloadBytes() > MTU);
    sendAndExpectBitExact(activation(PLAN, 1, 300, 257), values(300 * 257, 4), 3);
    assertEquals(0, drops.total());
  }

  @Test
  void shouldDropAndCountAFrameWhosePayloadWasCorruptedAfterItsCrcAndNeverApplyIt() {
    open(LinkChannel.ipc(TERM, MTU), 0, true);
    TensorDescriptor d = activation(PLAN, 1, 10, 10);
    float[] v = values(100, 5);
    UnsafeBuffer frame = new UnsafeBuffer(new byte[FrameHeader.LENGTH + 400]);
    int length = new TensorChunker(frame.capacity()).writeFrame(d, TensorBytes.ofFloats(v), 0, 0, frame, 0);
    frame.putByte(FrameHeader.LENGTH + 17, (byte) (frame.getByte(FrameHeader.LENGTH + 17) ^ 0x40));
    assertTrue(publisher.publication().offer(frame, 0, length) > 0);

    sendAndExpectBitExact(d, v, 1);
    assertEquals(1, drops.get(DropReason.BAD_CRC));
    assertTrue(received.isEmpty(), "the corrupted frame must not have produced a tensor");
  }

  @Test
  void shouldDropAndCountEveryFrameOfAStalePlanVersion() {
    open(LinkChannel.ipc(TERM, MTU), 0, true);
    long staleChunks = publisher.publish(activation(PLAN - 1, 1, 100, 257), TensorBytes.ofFloats(values(25700, 6)), 0);
    sendAndExpectBitExact(activation(PLAN, 1, 100, 257), values(100 * 257, 7), 20);
    assertEquals(staleChunks, drops.get(DropReason.STALE_PLAN));
    assertTrue(received.isEmpty());
  }

  @Test
  void shouldCheckFramesAgainstANewPlanVersionOnceTheSubscriberHasAppliedIt() {
    open(LinkChannel.ipc(TERM, MTU), 0, true);
    subscriber.requestPlanVersion(PLAN + 1);
    awaitTrue(() -> subscriber.appliedPlanVersion() == PLAN + 1, "plan version never applied");
    long chunks = publisher.publish(activation(PLAN, 1, 4, 4), TensorBytes.ofFloats(values(16, 8)), 0);
    sendAndExpectBitExact(activation(PLAN + 1, 2, 4, 4), values(16, 9), 1);
    assertEquals(chunks, drops.get(DropReason.STALE_PLAN));
  }

  @Test
  void shouldAbandonAnUnfinishedTensorOfAnAbortedStepWhenAskedFromAnotherThread() {
    open(LinkChannel.ipc(TERM, MTU), 0, true);
    TensorDescriptor twoChunks = activation(PLAN, 1, 2, 100);
    UnsafeBuffer frame = new UnsafeBuffer(new byte[FrameHeader.LENGTH + 400]);
    TensorChunker chunker = new TensorChunker(frame.capacity());
    assertEquals(2, chunker.chunkCount(twoChunks.tensorBytes()));
    int length = chunker.writeFrame(twoChunks, TensorBytes.ofFloats(values(200, 11)), 0, 0, frame, 0);
    assertTrue(publisher.publication().offer(frame, 0, length) > 0);
    sendAndExpectBitExact(activation(PLAN, 2, 2, 2), values(4, 12), 1);

    subscriber.requestAbandonStepsBefore(2);
    awaitTrue(() -> drops.abandonedTensors() == 1, "the half-received tensor of step 1 was never abandoned");
    assertEquals(0, drops.total());
  }

  @Test
  void shouldReturnNotConnectedWhenNoSubscriberListens() {
    ExclusivePublication lonely = driver.aeron().addExclusivePublication(LinkChannel.ipc(TERM, MTU),
        STREAMS.incrementAndGet());
    try (TensorPublisher p = new TensorPublisher(lonely, new BackoffIdleStrategy())) {
      assertEquals(Publication.NOT_CONNECTED, p.publish(activation(PLAN, 1, 2, 2), TensorBytes.ofFloats(new float[4]),
          0));
    }
  }

  @Test
  void shouldGiveUpWithBackPressuredWhenTheSubscriberDoesNotKeepUp() {
    open(LinkChannel.ipc(64 * 1024, MTU), 0, false);
    long start = System.nanoTime();
    long result = publisher.publish(activation(PLAN, 1, 100, 257), TensorBytes.ofFloats(values(25700, 10)), 0);
    assertEquals(Publication.BACK_PRESSURED, result);
    assertTrue(System.nanoTime() - start >= 200_000_000L, "gave up before the back-pressure timeout");
  }
}
