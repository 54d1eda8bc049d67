package io.vitfleet.bench;

import io.aeron.ExclusivePublication;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.aeron.driver.ThreadingMode;
import io.aeron.logbuffer.BufferClaim;
import io.aeron.logbuffer.FragmentHandler;
import io.aeron.protocol.DataHeaderFlyweight;
import io.vitfleet.ops.JsonOutput;
import io.vitfleet.ops.UserError;
import io.vitfleet.ops.VitfleetCli;
import io.vitfleet.protocol.frame.DType;
import io.vitfleet.protocol.frame.DropCounters;
import io.vitfleet.protocol.frame.FrameKind;
import io.vitfleet.protocol.frame.TensorChunker;
import io.vitfleet.protocol.frame.TensorDescriptor;
import io.vitfleet.protocol.frame.TensorReassembler;
import io.vitfleet.protocol.link.EmbeddedMediaDriver;
import io.vitfleet.protocol.link.LinkChannel;
import io.vitfleet.protocol.link.TensorPublisher;
import io.vitfleet.protocol.link.TensorSubscriber;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.agrona.BufferUtil;
import org.agrona.CloseHelper;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code vitfleet bench link}: throughput of the data-plane link (chunked, CRC32C-checked tensors through
 * {@link TensorPublisher} and {@link TensorSubscriber}) over Aeron IPC and UDP on loopback, beside a memcpy of the
 * same bytes and a plain TCP loopback socket measured in the same run. Everything runs in this one JVM: one embedded
 * media driver, the sender on the calling thread, the receiver on an agent (or socket) thread.
 *
 * <p>Each case streams back-to-back tensors of one size and is timed from the first send to the last byte received
 * (for memcpy, the last copy). The seven cases of a size run in interleaved rounds (memcpy, two-thread ring, bare
 * Aeron IPC, IPC, TCP, UDP, TCP with small buffers, then again), so a ratio compares cases measured under the same
 * load; each figure is the median over rounds. Each case opens fresh (its threads exist only while it is measured)
 * and is primed untimed first: an Aeron link until every term of its new log has been written once, since first
 * touches of a sparse log fault pages in and a long-lived link pays them only once.
 *
 * <p>What bounds IPC against memcpy, measured in the same rounds by two reference cases between them: a two-thread
 * ring (one copy in, one copy out, busy-spinning threads: the fastest hand-over between two cores) and bare Aeron IPC
 * (the link's channel and chunks, no vitfleet header, CRC or checks). The IPC ratio is about the product of
 * ring / memcpy (the second core and the cross-core traffic), bare Aeron / ring (Aeron's log rotating through three
 * terms, its driver conductor zeroing each term and moving the publisher's limit on a third thread, yielding waits)
 * and link / bare Aeron (the frame header, CRC32C at both ends, the reassembler's checks).
 */
@Command(name = "link", mixinStandardHelpOptions = true,
    description = "Aeron throughput for 1, 4 and 16 MiB tensors over IPC and UDP on loopback, beside a memcpy of the "
        + "same sizes and TCP loopback sockets in the same run; prints JSON (results, ipc_vs_memcpy, udp_vs_tcp).")
final class LinkBench implements Callable<Integer> {
  private static final long JOB = 0xBE4CL;
  private static final int PLAN = 1;
  private static final long MIB = 1024 * 1024;
  private static final double IPC_TARGET = 0.5;
  private static final double UDP_TARGET = 0.6;
  /**
   * How long the bench waits for a delivery, a connection or a starved peer: 60 s. On a machine whose cores other
   * processes keep busy, a receiver can be starved for seconds; the bench should then report a low rate rather
   * than fail, so it also raises the driver's liveness timeouts to this.
   */
  private static final long RECEIVE_TIMEOUT_NS = 60_000_000_000L;
  /** Positions of the cases in a round, in the order they run. */
  private static final int MEMCPY = 0;
  private static final int RING = 1;
  private static final int IPC_BARE = 2;
  private static final int IPC = 3;
  private static final int TCP = 4;
  private static final int UDP = 5;
  private static final int TCP_SMALL_BUFFERS = 6;
  /** Why the default MTU and term lengths; the JSON repeats it beside the values used. */
  private static final String WHY_MTU_AND_TERM_LENGTH = "MTU 65504, Aeron's largest, on both links: a chunk is one "
      + "frame of up to 64 KiB, so per-frame costs (header, CRC call, poll, and on UDP one sendmsg and one recvmsg "
      + "per datagram) are spread over the most bytes, a chunk fits one MTU and is written in place with tryClaim, "
      + "and loopback carries 64 KiB datagrams unfragmented (between hosts use 8 KiB with jumbo frames, else 1408); "
      + "UDP at MTU 32, 16 and 8 KiB ran at about 0.75, 0.55 and 0.3 of 64 KiB. IPC term 4 MiB: the publisher may "
      + "run half a term (2 MiB, 32 chunks) ahead of the subscriber, which hands space back every 8 chunks, so both "
      + "threads stay busy, while the 12 MiB log, the tensor and its reassembly buffer fit the 32 MiB L3 of the "
      + "machine it was tuned on; terms of 1, 2, 8 and 16 MiB ran 5-45% slower. UDP term 16 MiB: a sender may have "
      + "in flight the smaller of half a term and the receiver window, which is the socket buffer (4 MiB, the "
      + "net.core.rmem_max there), and Aeron needs that much to ride out the scheduling of the threads whose status "
      + "messages open the window: 4 MiB terms (2 MiB window) ran at about 0.6 of 16 MiB, and 1 MiB or 256 KiB "
      + "socket buffers at 0.7 and 0.4 of 4 MiB; 8 and 32 MiB terms were within noise of 16.";
  /** Untimed tensors sent on a freshly opened case before it is timed. */
  private static final int PRIMING_TENSORS = 2;

  @Option(names = "--json", paramLabel = "FILE", description = "Also write the JSON result to FILE.")
  Path json;

  @Option(names = "--sizes-mib", split = ",", paramLabel = "MIB", defaultValue = "1,4,16",
      description = "Tensor sizes in MiB (default: ${DEFAULT-VALUE}).")
  int[] sizesMib;

  @Option(names = "--trial-mib", paramLabel = "MIB", defaultValue = "512",
      description = "Bytes streamed per case and round, in MiB (default: ${DEFAULT-VALUE}).")
  int trialMib;

  @Option(names = "--rounds", paramLabel = "K", defaultValue = "7",
      description = "Timed rounds per size after one warm-up round; medians are reported (default: "
          + "${DEFAULT-VALUE}).")
  int rounds;

  @Option(names = "--ipc-term-length", paramLabel = "BYTES", defaultValue = "4194304",
      description = "Term length of the IPC link (default: ${DEFAULT-VALUE}).")
  int ipcTermLength;

  @Option(names = "--udp-term-length", paramLabel = "BYTES", defaultValue = "16777216",
      description = "Term length of the UDP link (default: ${DEFAULT-VALUE}).")
  int udpTermLength;

  @Option(names = "--ipc-mtu", paramLabel = "BYTES", defaultValue = "65504",
      description = "MTU of the IPC link (default: ${DEFAULT-VALUE}).")
  int ipcMtu;

  @Option(names = "--udp-mtu", paramLabel = "BYTES", defaultValue = "65504",
      description = "MTU of the UDP link; loopback carries 64 KiB datagrams unfragmented (default: "
          + "${DEFAULT-VALUE}).")
  int udpMtu;

  @Option(names = "--socket-buffer", paramLabel = "BYTES", defaultValue = "4194304",
      description = "UDP socket buffers and receiver window of the driver; at most net.core.rmem_max (default: "
          + "${DEFAULT-VALUE}).")
  int socketBuffer;

  @Option(names = "--tcp-small-buffer", paramLabel = "BYTES", defaultValue = "262144",
      description = "Socket buffers of the second TCP reference, tcp_small_buffers: on loopback, small buffers keep "
          + "the bytes in flight in cache, and TCP can run faster than with autotuned ones (default: "
          + "${DEFAULT-VALUE}).")
  int tcpSmallBuffer;

  @Option(names = "--threading", paramLabel = "MODE", defaultValue = "DEDICATED",
      description = "Media driver threading mode: SHARED, SHARED_NETWORK or DEDICATED. DEDICATED lets the UDP sender "
          + "and receiver run on both cores at once and keeps the IPC conductor's work off the network thread; it "
          + "measured fastest on 2 cores (default: ${DEFAULT-VALUE}).")
  ThreadingMode threading;

  @Option(names = "--idle", paramLabel = "KIND", defaultValue = "YIELD",
      description = "How the subscriber agent and a back-pressured publisher wait: BUSY_SPIN, YIELD or BACKOFF. "
          + "YIELD hands the core to the driver or the peer at once; BUSY_SPIN starves the driver when threads "
          + "outnumber cores (default: ${DEFAULT-VALUE}).")
  EmbeddedMediaDriver.Idle idle;

  @Option(names = "--driver-idle", paramLabel = "KIND", defaultValue = "BACKOFF",
      description = "How the media driver's threads wait: BUSY_SPIN, YIELD or BACKOFF; BACKOFF stays awake while "
          + "data flows and costs the other cases no CPU (default: ${DEFAULT-VALUE}).")
  EmbeddedMediaDriver.Idle driverIdle;

  @Option(names = "--fragment-limit", paramLabel = "N",
      description = "Fragments the subscriber takes per poll (default: TensorSubscriber's, "
          + TensorSubscriber.DEFAULT_FRAGMENT_LIMIT + ").")
  int fragmentLimit = TensorSubscriber.DEFAULT_FRAGMENT_LIMIT;

  @Option(names = "--aeron-dir", paramLabel = "DIR",
      description = "Media driver directory (default: a new folder under /dev/shm, else the temp folder).")
  Path aeronDir;

  /** One way of moving a tensor's bytes; {@link #stream} moves {@code n} tensors and returns the nanoseconds. */
  private interface Case extends AutoCloseable {
    String transport();

    long stream(int n);

    /** Untimed tensors to send after opening, before the timed ones. */
    default int primingTensors() {
      return PRIMING_TENSORS;
    }

    Map<String, Object> details();

    @Override
    void close();
  }

  @Override
  public Integer call() throws Exception {
    validate();
    Queue<Throwable> errors = new ConcurrentLinkedQueue<>();
    EmbeddedMediaDriver.Settings settings = new EmbeddedMediaDriver.Settings(threading, driverIdle, socketBuffer,
        RECEIVE_TIMEOUT_NS);
    List<Map<String, Object>> results = new ArrayList<>();
    List<Map<String, Object>> perSize = new ArrayList<>();
    DropCounters drops = new DropCounters();
    double logIpc = 0;
    double logUdp = 0;
    double logUdpSmall = 0;
    double[] logIpcSteps = new double[3];
    try (EmbeddedMediaDriver driver = EmbeddedMediaDriver.launch(aeronDir(), settings, errors::add)) {
      AtomicInteger streams = new AtomicInteger();
      for (int mib : sizesMib) {
        int size = (int) (mib * MIB);
        UnsafeBuffer tensor = randomTensor(size);
        List<CaseFactory> cases = List.of(
            () -> new Memcpy(tensor, size),
            () -> new TwoThreadRing(tensor, size),
            () -> new AeronBareIpc(driver, LinkChannel.ipc(ipcTermLength, ipcMtu), streams.incrementAndGet(), tensor,
                size, errors),
            () -> new AeronLink(driver, "aeron_ipc", LinkChannel.ipc(ipcTermLength, ipcMtu), streams.incrementAndGet(),
                tensor, size, drops, errors),
            () -> new Tcp("tcp", tensor, size, 0),
            () -> new AeronLink(driver, "aeron_udp", LinkChannel.udp("127.0.0.1:" + freeUdpPort(), udpTermLength,
                udpMtu), streams.incrementAndGet(), tensor, size, drops, errors),
            () -> new Tcp("tcp_small_buffers", tensor, size, tcpSmallBuffer));
        List<Measured> measured = runRounds(cases, size);
        measured.forEach(m -> results.add(m.json()));
        double ipcRatio = medianRatio(measured, IPC, MEMCPY);
        double[] steps = {medianRatio(measured, RING, MEMCPY), medianRatio(measured, IPC_BARE, RING),
            medianRatio(measured, IPC, IPC_BARE)};
        for (int i = 0; i < steps.length; i++) {
          logIpcSteps[i] += Math.log(steps[i]);
        }
        double udpRatio = medianRatio(measured, UDP, TCP);
        double udpSmallRatio = medianRatio(measured, UDP, TCP_SMALL_BUFFERS);
        logIpc += Math.log(ipcRatio);
        logUdp += Math.log(udpRatio);
        logUdpSmall += Math.log(udpSmallRatio);
        Map<String, Object> ratios = new LinkedHashMap<>();
        ratios.put("size_bytes", size);
        ratios.put("ipc_vs_memcpy", round(ipcRatio));
        ratios.put("ring_vs_memcpy", round(steps[0]));
        ratios.put("aeron_ipc_bare_vs_ring", round(steps[1]));
        ratios.put("ipc_vs_aeron_ipc_bare", round(steps[2]));
        ratios.put("udp_vs_tcp", round(udpRatio));
        ratios.put("udp_vs_tcp_small_buffers", round(udpSmallRatio));
        perSize.add(ratios);
      }
    }
    if (!errors.isEmpty()) {
      throw new IllegalStateException("the link reported errors during the bench: " + errors);
    }
    int n = sizesMib.length;
    double[] ipcSteps = Arrays.stream(logIpcSteps).map(l -> Math.exp(l / n)).toArray();
    Map<String, Object> out = report(results, perSize, Math.exp(logIpc / n), ipcSteps, Math.exp(logUdp / n),
        Math.exp(logUdpSmall / n), drops);
    System.out.println(JsonOutput.mapper().writeValueAsString(out));
    if (json != null) {
      JsonOutput.write(json, out);
    }
    return 0;
  }

  /** Opens a case: its connections and threads exist only while it is measured, so idle cases cost no CPU. */
  @FunctionalInterface
  private interface CaseFactory {
    Case open() throws IOException;
  }

  /** A case's JSON result and its rate in each round (GB/s). */
  private record Measured(Map<String, Object> json, double[] rates) {
  }

  /**
   * One warm-up round, then {@link #rounds} rounds of every case in turn. Each case is opened, primed with
   * {@link Case#primingTensors()} untimed tensors, timed, and closed.
   */
  private List<Measured> runRounds(List<CaseFactory> factories, int size) throws IOException {
    int n = tensorsPerRound(size);
    double[][] rates = new double[factories.size()][rounds];
    double[][] faults = new double[factories.size()][rounds];
    List<Map<String, Object>> details = new ArrayList<>();
    for (int r = -1; r < rounds; r++) {
      for (int c = 0; c < factories.size(); c++) {
        try (Case open = factories.get(c).open()) {
          open.stream(open.primingTensors());
          long faultsBefore = minorPageFaults();
          double rate = (double) n * size / open.stream(n);
          if (r >= 0) {
            rates[c][r] = rate;
            faults[c][r] = minorPageFaults() - faultsBefore;
          } else {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("transport", open.transport());
            d.put("priming_tensors", open.primingTensors());
            d.putAll(open.details());
            details.add(d);
          }
        }
      }
    }
    List<Measured> results = new ArrayList<>();
    for (int c = 0; c < factories.size(); c++) {
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("transport", details.get(c).remove("transport"));
      r.put("size_bytes", size);
      r.put("gbytes_per_second", round(median(rates[c])));
      r.put("rounds_gbytes_per_second", Arrays.stream(rates[c]).map(LinkBench::round).toArray());
      r.put("tensors_per_round", n);
      r.put("minor_page_faults_per_round", (long) median(faults[c]));
      r.putAll(details.get(c));
      results.add(new Measured(r, rates[c]));
    }
    return results;
  }

  private Map<String, Object> report(List<Map<String, Object>> results, List<Map<String, Object>> perSize,
      double ipcVsMemcpy, double[] ipcSteps, double udpVsTcp, double udpVsTcpSmallBuffers, DropCounters drops) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("benchmark", "link");
    out.put("setup", "one JVM: one embedded Aeron media driver (threading " + threading + ", driver idle "
        + driverIdle + ", agent idle " + idle + ", subscriber fragment limit " + fragmentLimit + ", liveness timeouts "
        + RECEIVE_TIMEOUT_NS / 1_000_000_000L + " s); sender on the main thread, receiver on an AgentRunner (Aeron) "
        + "or a plain thread (TCP), opened per case and round so idle cases take no CPU; "
        + Runtime.getRuntime().availableProcessors() + " CPUs; system load average "
        + round(ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage()) + " at the end");
    out.put("what_is_timed", "back-to-back tensors of one size, from the first send to the last byte received; "
        + "gbytes_per_second = tensor bytes / 1e9 / seconds; the cases of a size run in " + rounds
        + " interleaved rounds of " + trialMib + " MiB each after a warm-up round; each case is first primed "
        + "untimed (Aeron: enough tensors to write all three terms of the fresh log once, so the timed stream "
        + "meets no first-touch page faults; the two-thread ring: once through its ring; TCP and memcpy: "
        + PRIMING_TENSORS + " tensors); figures are medians "
        + "over rounds");
    out.put("aeron_path", "TensorPublisher -> TensorSubscriber: tensors chunked to one MTU; each chunk written in "
        + "place with tryClaim and a CRC32C over header and payload; the subscriber verifies the CRC and copies the "
        + "chunk into the reassembled tensor. Per byte: two copies and two CRC passes in vitfleet code, and the "
        + "media driver zeroes each term behind the subscriber (IPC), or sends, receives and copies each datagram "
        + "into the image (UDP)");
    out.put("memcpy_method", "UnsafeBuffer.putBytes between two direct buffers (Unsafe.copyMemory), one thread; "
        + "the same source and destination each time, so 1 and 4 MiB copies run from cache");
    out.put("tcp_method", "java.nio blocking SocketChannel over 127.0.0.1; the sender writes each tensor from a "
        + "direct buffer, a receiver thread reads into a direct buffer; no framing and no checksum beyond TCP's. "
        + "tcp: the kernel's autotuned socket buffers; tcp_small_buffers: " + tcpSmallBuffer + "-byte buffers each "
        + "way, which on loopback keep the bytes in flight in cache");
    out.put("ipc_references", "two steps between memcpy and the IPC link, measured in the same rounds. "
        + "two_thread_ring: the least any two-thread link does, with no Aeron, header or CRC: the sender copies each "
        + "chunk (the IPC link's chunk size) into a shared ring as long as the IPC log (3 terms) and may run half a "
        + "term ahead, as an Aeron IPC publisher may; a receiver thread copies each chunk out into the tensor; both "
        + "busy-spin while waiting, so it is the fastest hand-over between two cores here. "
        + "aeron_ipc_bare: Aeron IPC with the link's channel (term, MTU) and fragment limit, each chunk written in "
        + "place with tryClaim behind a 4-byte chunk index and copied out by the subscriber; no vitfleet header, no "
        + "CRC, no checks. The IPC ratio is their product: ipc_vs_memcpy ~ ring_vs_memcpy x aeron_ipc_bare_vs_ring "
        + "x ipc_vs_aeron_ipc_bare (each a geometric mean of per-size medians, so equal only approximately)");
    out.put("results", results);
    out.put("ratios_per_size", perSize);
    out.put("ratio_definition", "per size: the median over rounds of (Aeron IPC rate / memcpy rate), (Aeron UDP rate "
        + "/ tcp rate) and (Aeron UDP rate / tcp_small_buffers rate) measured in the same round; the top-level "
        + "ratios are the geometric means of the per-size ones");
    out.put("ipc_vs_memcpy", round(ipcVsMemcpy));
    out.put("ring_vs_memcpy", round(ipcSteps[0]));
    out.put("aeron_ipc_bare_vs_ring", round(ipcSteps[1]));
    out.put("ipc_vs_aeron_ipc_bare", round(ipcSteps[2]));
    out.put("udp_vs_tcp", round(udpVsTcp));
    out.put("udp_vs_tcp_small_buffers", round(udpVsTcpSmallBuffers));
    out.put("targets", Map.of("ipc_vs_memcpy", IPC_TARGET, "udp_vs_tcp", UDP_TARGET));
    out.put("targets_met", ipcVsMemcpy >= IPC_TARGET && udpVsTcp >= UDP_TARGET);
    out.put("mtu", Map.of("ipc", ipcMtu, "udp", udpMtu));
    out.put("term_length", Map.of("ipc", ipcTermLength, "udp", udpTermLength));
    out.put("why_mtu_and_term_length", WHY_MTU_AND_TERM_LENGTH);
    out.put("frames_dropped", drops.total());
    return out;
  }

  private void validate() {
    if (rounds < 1 || trialMib < 1 || fragmentLimit < 1 || sizesMib.length == 0) {
      throw new UserError("--rounds, --trial-mib and --fragment-limit must be >= 1 and --sizes-mib non-empty");
    }
    for (int mib : sizesMib) {
      if (mib < 1 || mib > 1024) {
        throw new UserError("--sizes-mib " + mib + " is outside 1..1024");
      }
    }
  }

  private Path aeronDir() {
    if (aeronDir != null) {
      return aeronDir;
    }
    Path shm = Path.of("/dev/shm");
    Path parent = Files.isDirectory(shm) && Files.isWritable(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir"));
    return parent.resolve("vitfleet-bench-link-" + ProcessHandle.current().pid());
  }

  private int tensorsPerRound(int size) {
    return (int) Math.max(4, trialMib * MIB / size);
  }

  /** One thread copying the tensor into another direct buffer. */
  private static final class Memcpy implements Case {
    private final UnsafeBuffer src;
    private final UnsafeBuffer dst;
    private final int size;

    Memcpy(UnsafeBuffer src, int size) {
      this.src = src;
      this.size = size;
      this.dst = new UnsafeBuffer(BufferUtil.allocateDirectAligned(size, 64));
    }

    @Override
    public String transport() {
      return "memcpy";
    }

    @Override
    public long stream(int n) {
      long start = System.nanoTime();
      for (int i = 0; i < n; i++) {
        dst.putBytes(0, src, 0, size);
      }
      long elapsed = System.nanoTime() - start;
      if (dst.getLong(size - 8) != src.getLong(size - 8)) {
        throw new IllegalStateException("memcpy did not copy");
      }
      return elapsed;
    }

    @Override
    public Map<String, Object> details() {
      return Map.of();
    }

    @Override
    public void close() {
    }
  }

  /**
   * Reference: two threads handing the tensor over through a ring in shared memory, the least work any link
   * between two threads does (one copy in, one copy out), without Aeron, a frame header or a CRC. Chunk size, ring
   * length (3 terms) and how far the sender may run ahead (half a term) are the IPC link's. Both threads busy-spin
   * while they wait (two threads, two cores, no third party to starve), so this is the fastest hand-over between
   * two cores of this machine, not a configuration a member could run beside TensorFlow.
   */
  private final class TwoThreadRing implements Case {
    private final UnsafeBuffer src;
    private final UnsafeBuffer ring;
    private final UnsafeBuffer dst;
    private final int size;
    private final TensorChunker chunker;
    private final int chunk;
    private final int chunksPerTensor;
    private final int slots;
    private final int aheadChunks;
    private final AtomicLong produced = new AtomicLong();
    private final AtomicLong consumed = new AtomicLong();
    private final AtomicLong completed = new AtomicLong();
    private final Thread receiver;
    private volatile boolean running = true;

    TwoThreadRing(UnsafeBuffer tensor, int size) {
      this.src = tensor;
      this.size = size;
      this.chunker = ipcChunker();
      this.chunk = chunker.stride();
      this.chunksPerTensor = chunker.chunkCount(size);
      this.slots = 3 * ipcTermLength / chunk;
      this.aheadChunks = Math.max(1, ipcTermLength / 2 / chunk);
      this.ring = new UnsafeBuffer(BufferUtil.allocateDirectAligned(slots * chunk, 64));
      this.dst = new UnsafeBuffer(BufferUtil.allocateDirectAligned(size, 64));
      receiver = new Thread(this::receive, "ring-receiver");
      receiver.setDaemon(true);
      receiver.start();
    }

    private void receive() {
      long next = 0;
      while (running) {
        long available = produced.get();
        if (next == available) {
          Thread.onSpinWait();
          continue;
        }
        for (; next < available; next++) {
          int index = (int) (next % chunksPerTensor);
          dst.putBytes(index * chunk, ring, (int) (next % slots) * chunk, chunker.payloadLength(size, index));
          consumed.lazySet(next + 1);
          if (index == chunksPerTensor - 1) {
            completed.lazySet(completed.get() + 1);
          }
        }
      }
    }

    @Override
    public String transport() {
      return "two_thread_ring";
    }

    /** Like an Aeron link: enough tensors to pass through the whole ring once before timing. */
    @Override
    public int primingTensors() {
      return (int) Math.max(PRIMING_TENSORS, ((long) slots * chunk + size - 1) / size + 1);
    }

    @Override
    public long stream(int n) {
      long target = completed.get() + n;
      long next = produced.get();
      long start = System.nanoTime();
      for (int t = 0; t < n; t++) {
        for (int index = 0; index < chunksPerTensor; index++) {
          while (next - consumed.get() >= aheadChunks) {
            Thread.onSpinWait();
          }
          ring.putBytes((int) (next % slots) * chunk, src, index * chunk, chunker.payloadLength(size, index));
          produced.lazySet(++next);
        }
      }
      awaitCount(completed, target, () -> "the ring receiver completed " + completed.get() + " of " + target
          + " tensors");
      long elapsed = System.nanoTime() - start;
      checkCopied(src, dst, size, "two_thread_ring");
      return elapsed;
    }

    @Override
    public Map<String, Object> details() {
      return Map.of("chunk_payload_bytes", chunk, "ring_bytes", (long) slots * chunk, "sender_ahead_bytes",
          (long) aheadChunks * chunk);
    }

    @Override
    public void close() {
      running = false;
      try {
        receiver.join(RECEIVE_TIMEOUT_NS / 1_000_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * Reference: Aeron IPC alone, on the IPC link's channel, with the same chunks: each written in place with
   * {@code tryClaim} behind a 4-byte chunk index and copied out by the subscriber into the tensor. What the link adds
   * on top (its header, CRC32C at both ends, the reassembler's checks) is the gap between this and aeron_ipc.
   */
  private final class AeronBareIpc implements Case {
    private static final int INDEX_BYTES = Integer.BYTES;
    private final String channel;
    private final UnsafeBuffer src;
    private final UnsafeBuffer dst;
    private final int size;
    private final TensorChunker chunker;
    private final int chunk;
    private final int chunksPerTensor;
    private final AtomicLong completed = new AtomicLong();
    private final ExclusivePublication publication;
    private final AgentRunner runner;
    private final BufferClaim claim = new BufferClaim();
    private final IdleStrategy senderIdle = idle.create();

    AeronBareIpc(EmbeddedMediaDriver driver, String channel, int stream, UnsafeBuffer tensor, int size,
        Queue<Throwable> errors) {
      this.channel = channel;
      this.src = tensor;
      this.size = size;
      this.chunker = ipcChunker();
      this.chunk = chunker.stride();
      this.chunksPerTensor = chunker.chunkCount(size);
      this.dst = new UnsafeBuffer(BufferUtil.allocateDirectAligned(size, 64));
      Subscription subscription = driver.aeron().addSubscription(channel, stream);
      FragmentHandler handler = (buffer, offset, length, header) -> {
        int index = buffer.getInt(offset);
        dst.putBytes(index * chunk, buffer, offset + INDEX_BYTES, length - INDEX_BYTES);
        if (index == chunksPerTensor - 1) {
          completed.lazySet(completed.get() + 1);
        }
      };
      runner = new AgentRunner(idle.create(), errors::add, null, new Agent() {
        @Override
        public int doWork() {
          return subscription.poll(handler, fragmentLimit);
        }

        @Override
        public void onClose() {
          subscription.close();
        }

        @Override
        public String roleName() {
          return "bare-ipc-subscriber";
        }
      });
      AgentRunner.startOnThread(runner);
      publication = driver.aeron().addExclusivePublication(channel, stream);
      awaitConnected(publication, channel);
    }

    @Override
    public String transport() {
      return "aeron_ipc_bare";
    }

    @Override
    public long stream(int n) {
      long target = completed.get() + n;
      long start = System.nanoTime();
      for (int t = 0; t < n; t++) {
        for (int index = 0; index < chunksPerTensor; index++) {
          int length = chunker.payloadLength(size, index);
          long deadline = System.nanoTime() + RECEIVE_TIMEOUT_NS;
          senderIdle.reset();
          long position;
          while ((position = publication.tryClaim(INDEX_BYTES + length, claim)) < 0) {
            if (position == Publication.NOT_CONNECTED || position == Publication.CLOSED
                || System.nanoTime() - deadline > 0) {
              throw new IllegalStateException("tryClaim on " + channel + " failed with Aeron code " + position);
            }
            senderIdle.idle();
          }
          claim.buffer().putInt(claim.offset(), index);
          claim.buffer().putBytes(claim.offset() + INDEX_BYTES, src, index * chunk, length);
          claim.commit();
        }
      }
      awaitCount(completed, target, () -> channel + " (bare) delivered " + completed.get() + " of " + target
          + " tensors");
      long elapsed = System.nanoTime() - start;
      checkCopied(src, dst, size, "aeron_ipc_bare");
      return elapsed;
    }

    @Override
    public int primingTensors() {
      return primingTensorsFor(publication, size);
    }

    @Override
    public Map<String, Object> details() {
      return Map.of("channel", channel, "chunk_payload_bytes", chunk);
    }

    @Override
    public void close() {
      CloseHelper.closeAll(publication, runner);
    }
  }

  /** The vitfleet link: a TensorPublisher on this thread, a TensorSubscriber agent on its own. */
  private final class AeronLink implements Case {
    private final String transport;
    private final String channel;
    private final UnsafeBuffer tensor;
    private final DropCounters drops;
    private final AtomicLong completed = new AtomicLong();
    private final AgentRunner runner;
    private final TensorPublisher publisher;
    private final TensorDescriptor descriptor;
    private final int size;

    AeronLink(EmbeddedMediaDriver driver, String transport, String channel, int stream, UnsafeBuffer tensor,
        int size, DropCounters drops, Queue<Throwable> errors) {
      this.transport = transport;
      this.channel = channel;
      this.tensor = tensor;
      this.size = size;
      this.drops = drops;
      TensorReassembler reassembler = new TensorReassembler(t -> completed.lazySet(completed.get() + 1), drops,
          4, size).acceptJob(JOB);
      reassembler.planVersion(PLAN);
      Subscription subscription = driver.aeron().addSubscription(channel, stream);
      runner = new AgentRunner(idle.create(), errors::add, null,
          new TensorSubscriber(subscription, reassembler, fragmentLimit));
      AgentRunner.startOnThread(runner);
      ExclusivePublication publication = driver.aeron().addExclusivePublication(channel, stream);
      // The bench waits out back pressure as long as it waits for delivery: on a machine whose cores are shared,
      // a starved receiver must show as a low rate, not as a failed run.
      publisher = new TensorPublisher(publication, idle.create(), publication.maxPayloadLength(),
          RECEIVE_TIMEOUT_NS);
      descriptor = new TensorDescriptor().jobId(JOB).planVersion(PLAN).kind(FrameKind.ACTIVATION).dtype(DType.U8)
          .shape(size);
      awaitConnected(publication, channel);
    }

    @Override
    public String transport() {
      return transport;
    }

    @Override
    public long stream(int n) {
      long target = completed.get() + n;
      long start = System.nanoTime();
      for (int i = 0; i < n; i++) {
        long result = publisher.publish(descriptor.step(i), tensor, 0);
        if (result < 0) {
          throw new IllegalStateException("publish on " + channel + " failed with Aeron code " + result);
        }
      }
      awaitCount(completed, target, () -> channel + " delivered " + completed.get() + " of " + target
          + " tensors; drops " + drops);
      return System.nanoTime() - start;
    }

    @Override
    public int primingTensors() {
      return primingTensorsFor(publisher.publication(), size);
    }

    @Override
    public Map<String, Object> details() {
      return Map.of("channel", channel, "chunk_payload_bytes", publisher.chunkPayloadBytes());
    }

    @Override
    public void close() {
      CloseHelper.closeAll(publisher, runner);
    }
  }

  /**
   * A plain TCP loopback connection: this thread writes, a receiver thread reads and counts. Socket buffers are the
   * kernel's autotuned ones, or {@code socketBuffer} bytes each way (set before connecting, so the window scales).
   */
  private static final class Tcp implements Case {
    private final String transport;
    private final ServerSocketChannel server;
    private final SocketChannel sender;
    private final ByteBuffer src;
    private final int size;
    private final int socketBuffer;
    private final AtomicLong received = new AtomicLong();
    private final Queue<Throwable> errors = new ConcurrentLinkedQueue<>();
    private final Thread receiver;

    Tcp(String transport, UnsafeBuffer tensor, int size, int socketBuffer) throws IOException {
      this.transport = transport;
      this.size = size;
      this.socketBuffer = socketBuffer;
      this.src = tensor.byteBuffer().duplicate();
      server = ServerSocketChannel.open();
      if (socketBuffer > 0) {
        server.setOption(StandardSocketOptions.SO_RCVBUF, socketBuffer);
      }
      server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      receiver = new Thread(this::receive, "tcp-receiver");
      receiver.setDaemon(true);
      receiver.start();
      sender = SocketChannel.open();
      if (socketBuffer > 0) {
        sender.setOption(StandardSocketOptions.SO_SNDBUF, socketBuffer);
      }
      sender.connect(server.getLocalAddress());
    }

    private void receive() {
      try (SocketChannel ch = server.accept()) {
        ByteBuffer dst = ByteBuffer.allocateDirect(size);
        while (true) {
          int n = ch.read(dst);
          if (n < 0) {
            return;
          }
          if (!dst.hasRemaining()) {
            dst.clear();
          }
          received.lazySet(received.get() + n);
        }
      } catch (IOException e) {
        errors.add(e);
      }
    }

    @Override
    public String transport() {
      return transport;
    }

    @Override
    public long stream(int n) {
      long target = received.get() + (long) n * size;
      long start = System.nanoTime();
      try {
        for (int i = 0; i < n; i++) {
          src.clear();
          while (src.hasRemaining()) {
            sender.write(src);
          }
        }
      } catch (IOException e) {
        throw new IllegalStateException("TCP send over loopback failed: " + e.getMessage(), e);
      }
      awaitCount(received, target, () -> "TCP receiver got " + received.get() + " of " + target + " bytes; "
          + errors);
      return System.nanoTime() - start;
    }

    @Override
    public Map<String, Object> details() {
      try {
        return Map.of("channel", "tcp://" + server.getLocalAddress(), "socket_buffer_bytes",
            socketBuffer > 0 ? socketBuffer : "autotuned");
      } catch (IOException e) {
        return Map.of();
      }
    }

    @Override
    public void close() {
      CloseHelper.quietCloseAll(sender, server);
      receiver.interrupt();
    }
  }

  /**
   * Enough tensors to write every term of the log once (Aeron keeps three): a fresh log is a sparse file whose
   * pages fault in on first touch, in the publisher's, the driver's and the subscriber's mappings. A long-lived
   * link pays that once; the bench measures the steady state.
   */
  private static int primingTensorsFor(ExclusivePublication publication, int size) {
    long logBytes = 3L * publication.termBufferLength();
    return (int) Math.max(PRIMING_TENSORS, (logBytes + size - 1) / size + 1);
  }

  private static void awaitConnected(ExclusivePublication publication, String channel) {
    long deadline = System.nanoTime() + RECEIVE_TIMEOUT_NS;
    while (!publication.isConnected()) {
      if (System.nanoTime() - deadline > 0) {
        throw new IllegalStateException("no subscriber connected to " + channel + " within "
            + RECEIVE_TIMEOUT_NS / 1_000_000_000L + " s");
      }
      Thread.yield();
    }
  }

  /** A reference case must really have moved the bytes: its receiver's tensor equals the source. */
  private static void checkCopied(UnsafeBuffer src, UnsafeBuffer dst, int size, String transport) {
    for (int i = 0; i < size; i += Long.BYTES) {
      if (src.getLong(i) != dst.getLong(i)) {
        throw new IllegalStateException(transport + " delivered a tensor that differs from the source at byte " + i);
      }
    }
  }

  /**
   * The IPC link's chunking (one MTU payload per chunk: the MTU less Aeron's data header, then the frame header), for
   * the reference cases; they use only its arithmetic, which is safe from both of their threads.
   */
  private TensorChunker ipcChunker() {
    return new TensorChunker(ipcMtu - DataHeaderFlyweight.HEADER_LENGTH);
  }

  private static void awaitCount(AtomicLong counter, long target, Supplier<String> what) {
    long deadline = System.nanoTime() + RECEIVE_TIMEOUT_NS;
    while (counter.get() < target) {
      if (System.nanoTime() - deadline > 0) {
        throw new IllegalStateException(what.get());
      }
      Thread.yield();
    }
  }

  /**
   * Minor page faults of this process so far (Linux: field 10 of /proc/self/stat), or 0 where that file does not
   * exist. Faults in a timed stream mean first touches of fresh memory, not the link's steady state.
   */
  private static long minorPageFaults() {
    try {
      String stat = Files.readString(Path.of("/proc/self/stat"));
      // Fields after the parenthesised command name start at field 3 (state); minflt is field 10.
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return Long.parseLong(fields[7]);
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  private static UnsafeBuffer randomTensor(int size) {
    ByteBuffer bytes = BufferUtil.allocateDirectAligned(size, 64);
    SplittableRandom random = new SplittableRandom(size);
    for (int i = 0; i + 8 <= size; i += 8) {
      bytes.putLong(i, random.nextLong());
    }
    return new UnsafeBuffer(bytes);
  }

  private static int freeUdpPort() throws IOException {
    try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** Median over rounds of case {@code numerator}'s rate over case {@code denominator}'s in the same round. */
  private static double medianRatio(List<Measured> measured, int numerator, int denominator) {
    double[] a = measured.get(numerator).rates();
    double[] b = measured.get(denominator).rates();
    double[] r = new double[a.length];
    for (int i = 0; i < r.length; i++) {
      r[i] = a[i] / b[i];
    }
    return median(r);
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  private static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }

  /** For running the bench alone: {@code java ... io.vitfleet.bench.LinkBench [options]}. */
  public static void main(String[] args) {
    CommandLine cl = new CommandLine(new LinkBench());
    VitfleetCli.applyErrorPolicy(cl);
    System.exit(cl.execute(args));
  }
}
