package io.vitfleet.protocol.link;

import io.aeron.Aeron;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import java.nio.file.Path;
import org.agrona.CloseHelper;
import org.agrona.ErrorHandler;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.YieldingIdleStrategy;

/**
 * An Aeron media driver inside this JVM plus a client connected to it, so a vitfleet process needs no external
 * Aeron daemon. The driver's directory is deleted when it starts (a previous run killed with -9 leaves one behind)
 * and when it closes. Errors of the driver and the client go to the one {@link ErrorHandler} given.
 */
public final class EmbeddedMediaDriver implements AutoCloseable {
  /**
   * Socket buffers for UDP links: 2 MiB each way. Aeron's receiver window is bounded by the receive buffer, so
   * larger buffers keep more bytes in flight between hosts; the OS caps them (net.core.rmem_max / wmem_max), and
   * Aeron warns at start when the cap is lower.
   */
  public static final int DEFAULT_SOCKET_BUFFER_BYTES = 2 * 1024 * 1024;
  /**
   * How long a peer may be silent before its link counts as lost: 5 s. A publication with no status message from
   * its subscriber for this long reports NOT_CONNECTED, and a subscriber's image with no data or heartbeat goes
   * unavailable; either fails the step. Shorter detects a killed worker sooner; longer rides out GC pauses and
   * starved threads on oversubscribed cores.
   */
  public static final long DEFAULT_LIVENESS_TIMEOUT_NS = 5_000_000_000L;
  /** Aeron's own default for client-driver keepalives; the liveness setting only ever raises it. */
  private static final long MIN_CLIENT_TIMEOUT_NS = 10_000_000_000L;
  /** Aeron requires the unblock timeout of a stuck publication to exceed the client timeout; it adds this margin. */
  private static final long UNBLOCK_MARGIN_NS = 5_000_000_000L;

  /** How driver threads wait when there is no work: the latency / CPU trade-off. */
  public enum Idle {
    /** Never sleeps: lowest latency, burns a core per driver thread even when idle. */
    BUSY_SPIN,
    /** Gives the core to other threads between checks: low latency while sharing cores. */
    YIELD,
    /** Spins, then yields, then parks up to 1 ms: cheap when idle, slower to wake. */
    BACKOFF;

    public IdleStrategy create() {
      return switch (this) {
        case BUSY_SPIN -> new BusySpinIdleStrategy();
        case YIELD -> new YieldingIdleStrategy();
        case BACKOFF -> new BackoffIdleStrategy();
      };
    }
  }

  /**
   * How the driver runs and waits. SHARED runs conductor, sender and receiver on one thread: the right default on
   * a host whose cores run TensorFlow. DEDICATED gives each its own thread, so a UDP link's sending and receiving
   * run on two cores at once (the link bench uses it). BACKOFF costs nothing when the link is quiet and stays awake
   * while data flows; BUSY_SPIN holds a core even when idle, which starves the other threads when they outnumber
   * the cores.
   */
  public record Settings(ThreadingMode threadingMode, Idle idle, int socketBufferBytes, long livenessTimeoutNs) {
    public static final Settings DEFAULTS = new Settings(ThreadingMode.SHARED, Idle.BACKOFF,
        DEFAULT_SOCKET_BUFFER_BYTES, DEFAULT_LIVENESS_TIMEOUT_NS);

    public Settings {
      if (socketBufferBytes < 64 * 1024) {
        throw new IllegalArgumentException("socketBufferBytes " + socketBufferBytes + " is below 64 KiB, the "
            + "smallest window that carries a 64 KiB frame");
      }
      if (livenessTimeoutNs < 1_000_000_000L) {
        throw new IllegalArgumentException("livenessTimeoutNs " + livenessTimeoutNs + " is below 1 s: links would "
            + "be declared lost during ordinary pauses");
      }
    }

    long clientTimeoutNs() {
      return Math.max(MIN_CLIENT_TIMEOUT_NS, livenessTimeoutNs);
    }
  }

  private final MediaDriver driver;
  private final Aeron aeron;

  private EmbeddedMediaDriver(MediaDriver driver, Aeron aeron) {
    this.driver = driver;
    this.aeron = aeron;
  }

  /**
   * Starts a driver whose files live in {@code directory} (a tmpfs such as /dev/shm is fastest). The directory
   * must belong to this process alone: whatever is in it is deleted first.
   */
  public static EmbeddedMediaDriver launch(Path directory, Settings settings, ErrorHandler errorHandler) {
    MediaDriver.Context context = new MediaDriver.Context()
        .aeronDirectoryName(directory.toAbsolutePath().toString())
        .dirDeleteOnStart(true)
        .dirDeleteOnShutdown(true)
        .threadingMode(settings.threadingMode())
        .termBufferSparseFile(true)
        .socketRcvbufLength(settings.socketBufferBytes())
        .socketSndbufLength(settings.socketBufferBytes())
        // The receiver window (bytes a UDP sender may have in flight) as large as the socket buffer it must fit.
        .initialWindowLength(settings.socketBufferBytes())
        .sharedIdleStrategy(settings.idle().create())
        .sharedNetworkIdleStrategy(settings.idle().create())
        .conductorIdleStrategy(settings.idle().create())
        .senderIdleStrategy(settings.idle().create())
        .receiverIdleStrategy(settings.idle().create())
        .publicationConnectionTimeoutNs(settings.livenessTimeoutNs())
        .imageLivenessTimeoutNs(settings.livenessTimeoutNs())
        .clientLivenessTimeoutNs(settings.clientTimeoutNs())
        .publicationUnblockTimeoutNs(settings.clientTimeoutNs() + UNBLOCK_MARGIN_NS)
        .errorHandler(errorHandler);
    MediaDriver driver = MediaDriver.launch(context);
    try {
      Aeron aeron = Aeron.connect(new Aeron.Context()
          .aeronDirectoryName(driver.aeronDirectoryName())
          .driverTimeoutMs(settings.clientTimeoutNs() / 1_000_000)
          .errorHandler(errorHandler));
      return new EmbeddedMediaDriver(driver, aeron);
    } catch (RuntimeException e) {
      CloseHelper.quietClose(driver);
      throw e;
    }
  }

  /** The client connected to this driver: add publications and subscriptions through it. */
  public Aeron aeron() {
    return aeron;
  }

  public String directory() {
    return driver.aeronDirectoryName();
  }

  @Override
  public void close() {
    CloseHelper.closeAll(aeron, driver);
  }
}
