package io.vitfleet.feeder.stream;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * An append-only file of the bytes a feeder delivered, one record per step, written microbatch by microbatch as they
 * are produced and sealed by a commit marker that is fsynced before the next step starts. After a crash the file is
 * read back up to the last sealed record ({@link #recover}); anything after it is a torn step and is cut off, and the
 * feeder continues with the next step. One feeder loop owns a StepFile (it is not thread-safe); a payload is below
 * 2 GiB.
 *
 * <p>Layout (little-endian): a record is {@code RECORD_MAGIC u32 | step i64 | length i32 | payload[length] |
 * crc32c(payload) u32 | COMMIT_MAGIC u32}. A record counts as committed only when both magics, the CRC and the step
 * (one more than the previous record's) check out.
 */
public final class StepFile implements AutoCloseable {
  /** "VFSR": a step record starts. */
  public static final int RECORD_MAGIC = 0x5253_4656;
  /** "VFSC": the step before it is committed. */
  public static final int COMMIT_MAGIC = 0x4353_4656;
  public static final int HEADER_BYTES = 4 + 8 + 4;
  public static final int TRAILER_BYTES = 4 + 4;

  private final Path path;
  private final FileChannel channel;
  private long nextStep;
  private final ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
  private final ByteBuffer trailer = ByteBuffer.allocate(TRAILER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
  private final CRC32C crc = new CRC32C();
  private boolean open;
  private int expected;
  private long written;

  /** What {@link #recover} found: the last committed step (-1 for none), where it ends, and what follows it. */
  public record Recovery(long lastCommittedStep, long committedBytes, long tornBytes) {}

  private StepFile(Path path, FileChannel channel, long nextStep) {
    this.path = path;
    this.channel = channel;
    this.nextStep = nextStep;
  }

  /**
   * Opens {@code path} for appending (creating it if missing), cutting off any torn step after the last committed
   * one. The first record of a new file is step {@code firstStep}; an existing file continues after its last step.
   */
  public static StepFile open(Path path, long firstStep) throws IOException {
    Recovery r = recover(path);
    FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ,
        StandardOpenOption.WRITE);
    try {
      channel.truncate(r.committedBytes());
      channel.position(r.committedBytes());
      channel.force(true);
    } catch (IOException e) {
      channel.close();
      throw e;
    }
    return new StepFile(path, channel, r.lastCommittedStep() < 0 ? firstStep : r.lastCommittedStep() + 1);
  }

  /** Reads {@code path} (which may be missing or torn) up to its last committed record. */
  public static Recovery recover(Path path) throws IOException {
    if (!Files.exists(path)) {
      return new Recovery(-1, 0, 0);
    }
    try (FileChannel in = FileChannel.open(path, StandardOpenOption.READ)) {
      long size = in.size();
      long offset = 0;
      long last = -1;
      ByteBuffer head = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
      ByteBuffer tail = ByteBuffer.allocate(TRAILER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
      while (offset + HEADER_BYTES + TRAILER_BYTES <= size) {
        head.clear();
        in.read(head, offset);
        head.flip();
        int magic = head.getInt();
        long step = head.getLong();
        int length = head.getInt();
        if (magic != RECORD_MAGIC || length < 0 || (last >= 0 && step != last + 1)
            || offset + HEADER_BYTES + length + TRAILER_BYTES > size) {
          break;
        }
        ByteBuffer payload = ByteBuffer.allocate(length);
        in.read(payload, offset + HEADER_BYTES);
        payload.flip();
        tail.clear();
        in.read(tail, offset + HEADER_BYTES + length);
        tail.flip();
        CRC32C check = new CRC32C();
        check.update(payload);
        if (tail.getInt() != (int) check.getValue() || tail.getInt() != COMMIT_MAGIC) {
          break;
        }
        last = step;
        offset += HEADER_BYTES + length + TRAILER_BYTES;
      }
      return new Recovery(last, offset, size - offset);
    }
  }

  /** The step the next {@link #append} must write. */
  public long nextStep() {
    return nextStep;
  }

  public Path path() {
    return path;
  }

  /**
   * Starts step {@link #nextStep()}'s record, whose payload will be {@code length} bytes: the feeder writes each
   * microbatch as soon as it is ready ({@link #write}) and seals the step with {@link #commit}.
   */
  public void begin(long step, int length) throws IOException {
    if (open) {
      throw new IllegalStateException(path + ": step " + step + " begun before step " + nextStep + " was committed");
    }
    if (step != nextStep) {
      throw new IllegalStateException(path + ": step " + step + " begun where step " + nextStep + " is due");
    }
    if (length < 0) {
      throw new IllegalArgumentException("a step's payload length must be non-negative, not " + length);
    }
    header.clear();
    header.putInt(RECORD_MAGIC).putLong(step).putInt(length).flip();
    writeFully(header);
    crc.reset();
    expected = length;
    written = 0;
    open = true;
  }

  /** Appends the next part of the open step's payload. */
  public void write(ByteBuffer part) throws IOException {
    if (!open) {
      throw new IllegalStateException(path + ": payload written outside a step (call begin first)");
    }
    if (written + part.remaining() > expected) {
      throw new IllegalStateException(path + ": step " + nextStep + " declared " + expected + " bytes; "
          + (written + part.remaining()) + " written");
    }
    written += part.remaining();
    crc.update(part.duplicate());
    writeFully(part);
  }

  /** Seals the open step with its commit marker and fsyncs: once this returns, the step survives a crash. */
  public void commit() throws IOException {
    if (!open || written != expected) {
      throw new IllegalStateException(path + ": step " + nextStep + " committed with " + written + " of " + expected
          + " bytes written" + (open ? "" : " (not begun)"));
    }
    trailer.clear();
    trailer.putInt((int) crc.getValue()).putInt(COMMIT_MAGIC).flip();
    writeFully(trailer);
    channel.force(false);
    open = false;
    nextStep++;
  }

  /** {@link #begin}, one {@link #write} and {@link #commit}. */
  public void append(long step, ByteBuffer payload) throws IOException {
    begin(step, payload.remaining());
    write(payload);
    commit();
  }

  private void writeFully(ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      channel.write(b);
    }
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
