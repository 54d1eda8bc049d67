package io.vitfleet.protocol.link;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitfleet.protocol.control.Endpoint;
import io.vitfleet.protocol.frame.DropReason;
import io.vitfleet.protocol.frame.FrameKind;
import io.vitfleet.protocol.frame.TensorDescriptor;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.agrona.CloseHelper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * System tests of the data plane's transports: one real embedded media driver stands for every host (as under
 * {@code vitfleet up --hosts K}), data planes on two host identities, tensors sent between them.
 */
class DataPlaneTransportTest {
  private static final long JOB = 0xB0A7L;
  private static final int PLAN = 3;
  private static final long WAIT_NS = 10_000_000_000L;
  private static final AtomicInteger STREAMS = new AtomicInteger(5000);

  @TempDir
  static Path tmp;
  private static EmbeddedMediaDriver driver;
  private static final Queue<Throwable> DRIVER_ERRORS = new ConcurrentLinkedQueue<>();

  private final List<DataPlane> planes = new ArrayList<>();

  @BeforeAll
  static void startDriver() {
    driver = EmbeddedMediaDriver.launch(tmp.resolve("aeron"), EmbeddedMediaDriver.Settings.DEFAULTS,
        DRIVER_ERRORS::add);
  }

  @AfterAll
  static void stopDriver() {
    CloseHelper.close(driver);
  }

  @AfterEach
  void closePlanes() {
    planes.forEach(CloseHelper::quietClose);
  }

  private static int freeUdpPort() throws IOException {
    try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** A data plane of {@code id} on {@code host} that listens on UDP too; received tensors go to {@code into}. */
  private DataPlane plane(String id, String host, Queue<DataPlane.Tensor> into) throws IOException {
    Endpoint self = DataPlane.endpoint(id, STREAMS.incrementAndGet(), host, "127.0.0.1:" + freeUdpPort(),
        LinkChannel.DEFAULT_UDP_MTU);
    DataPlane p = DataPlane.connect(driver.directory(), self, JOB, into::add);
    planes.add(p);
    p.acceptPlan(PLAN);
    return p;
  }

  private static TensorDescriptor activation(int plan, int microbatch, int floats) {
    return new TensorDescriptor().kind(FrameKind.ACTIVATION).planVersion(plan).step(4).microbatchOrGroup(microbatch)
        .stage(0).tensorId(0).shape(floats);
  }

  private static float[] values(int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = i * 0.25f - 7;
    }
    return v;
  }

  private static void await(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + WAIT_NS;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("gave up waiting for: " + what);
      }
      Thread.yield();
    }
  }

  @Test
  void shouldSendOverIpcOnOneHostAndOverUdpBetweenHostsAndSayWhichLinkUsesWhich() throws IOException {
    Queue<DataPlane.Tensor> sameHost = new ConcurrentLinkedQueue<>();
    Queue<DataPlane.Tensor> otherHost = new ConcurrentLinkedQueue<>();
    DataPlane sender = plane("worker-1", "sim-0", new ConcurrentLinkedQueue<>());
    DataPlane neighbour = plane("shard-0", "sim-0", sameHost);
    DataPlane remote = plane("worker-2", "sim-1", otherHost);
    // 40,000 floats = 160 KB: about 20 chunks at the 8 KiB UDP MTU, 3 at the IPC one.
    float[] data = values(40_000);

    sender.send(neighbour.self(), activation(PLAN, 0, data.length), data);
    sender.send(remote.self(), activation(PLAN, 1, data.length), data);

    await(() -> sameHost.size() == 1 && otherHost.size() == 1, "both tensors to arrive");
    assertArrayEquals(data, sameHost.peek().floats());
    assertArrayEquals(data, otherHost.peek().floats());
    assertEquals(1, otherHost.peek().index());
    assertEquals(Map.of("shard-0", Transport.IPC, "worker-2", Transport.UDP), sender.linkTransports());
    assertTrue(neighbour.framesReceived(Transport.IPC) >= 3, "IPC frames " + neighbour.framesReceived(Transport.IPC));
    assertEquals(0, neighbour.framesReceived(Transport.UDP));
    assertTrue(remote.framesReceived(Transport.UDP) >= 20, "UDP frames " + remote.framesReceived(Transport.UDP));
    assertEquals(0, remote.framesReceived(Transport.IPC));
  }

  @Test
  void shouldDropAndCountAStalePlanFrameThatArrivesOverUdpAsOverIpc() throws IOException {
    Queue<DataPlane.Tensor> received = new ConcurrentLinkedQueue<>();
    DataPlane sender = plane("feeder", "sim-0", new ConcurrentLinkedQueue<>());
    DataPlane remote = plane("worker-3", "sim-1", received);
    float[] data = values(100);

    sender.send(remote.self(), activation(PLAN - 1, 0, data.length), data);
    sender.send(remote.self(), activation(PLAN, 1, data.length), data);

    await(() -> received.size() == 1, "the current plan's tensor to arrive");
    await(() -> remote.drops().get(DropReason.STALE_PLAN) == 1, "the stale frame to be counted");
    assertEquals(1, received.peek().index(), "only the tensor of the installed plan is delivered");
    assertEquals(2, remote.framesReceived(Transport.UDP));
  }

  @Test
  void shouldRefuseAUdpPortThatIsTakenNamingThePortAndTheReason() throws IOException {
    try (DatagramSocket taken = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      Endpoint self = DataPlane.endpoint("shard-1", STREAMS.incrementAndGet(), "sim-0", "127.0.0.1:" + port,
          LinkChannel.DEFAULT_UDP_MTU);
      DataPlane.UdpBindException e = assertThrows(DataPlane.UdpBindException.class,
          () -> DataPlane.connect(driver.directory(), self, JOB, t -> { }));
      assertEquals(port, e.port());
      assertTrue(e.portInUse(), e.reason());
      assertEquals("the data plane of shard-1 cannot bind UDP 127.0.0.1:" + port + ": Address already in use",
          e.getMessage());
    }
    DRIVER_ERRORS.clear();
  }

  @Test
  void shouldFailASendToAPeerOnAnotherHostThatTakesNoUdp() throws IOException {
    DataPlane sender = plane("worker-1", "sim-0", new ConcurrentLinkedQueue<>());
    Endpoint ipcOnly = new Endpoint("worker-2", "sim-1", LinkChannel.ipc(), null, STREAMS.incrementAndGet());
    DataPlane.LinkException e = assertThrows(DataPlane.LinkException.class,
        () -> sender.send(ipcOnly, activation(PLAN, 0, 4), values(4)));
    assertTrue(e.getMessage().contains("takes no UDP"), e.getMessage());
  }
}
