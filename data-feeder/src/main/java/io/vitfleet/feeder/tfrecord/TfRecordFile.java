package io.vitfleet.feeder.tfrecord;

import io.vitfleet.feeder.DatasetException;
import io.vitfleet.feeder.source.SampleStatus;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Random access to the records of one TFRecord file, through its {@link RecordIndex} (loaded, or built on first use):
 * {@link #read(long)} costs one positioned read and checks the record's length header against its CRC and against the
 * index, then the data against its CRC. Thread-safe (positioned reads on one channel).
 *
 * <p>Reads never throw for damaged data: they answer a {@link RecordRead} whose status says what is wrong and where.
 * Opening throws a {@link DatasetException} (one line, for the command line) only when the file is missing,
 * unreadable, or not a TFRecord file at all (its first record's header fails its CRC). A file whose framing breaks
 * later keeps its readable records; records past the break answer {@link #tailStatus()}.
 */
public final class TfRecordFile implements Closeable {
  private final Path path;
  /**
   * Reopened if closed under us: a FileChannel closes for every thread when one thread is interrupted during a read,
   * and a cancelled decode task must not turn a whole shard invalid.
   */
  private volatile FileChannel channel;
  private volatile boolean closed;
  private final RecordIndex index;
  private final SampleStatus tailStatus;
  private final String tailDetail;

  /**
   * The outcome of reading one record.
   *
   * @param status VALID, or TRUNCATED, BAD_RECORD_HEADER, BAD_DATA_CRC, IO_ERROR
   * @param offset the record's byte offset (for a record past the readable part: where that part ends)
   * @param data the record's data when valid (a view of a fresh array, owned by the caller), else null
   * @param detail for an invalid record, what is wrong
   */
  public record RecordRead(SampleStatus status, long offset, ByteBuffer data, String detail) {
    public boolean isValid() {
      return status == SampleStatus.VALID;
    }
  }

  private TfRecordFile(Path path, FileChannel channel, RecordIndex index, SampleStatus tailStatus, String tailDetail) {
    this.path = path;
    this.channel = channel;
    this.index = index;
    this.tailStatus = tailStatus;
    this.tailDetail = tailDetail;
  }

  /**
   * Opens {@code file} and its index (building or rebuilding it, with a warning to {@code warnings}, as
   * {@link RecordIndex} describes).
   *
   * @throws DatasetException if the file is missing or unreadable, or is not a TFRecord file
   */
  public static TfRecordFile open(Path file, Consumer<String> warnings) {
    if (Files.isDirectory(file)) {
      throw new DatasetException(file, file + " is a folder, not a TFRecord file; check the path");
    }
    FileChannel channel;
    try {
      channel = FileChannel.open(file, StandardOpenOption.READ);
    } catch (NoSuchFileException e) {
      throw new DatasetException(file, "TFRecord file not found: " + file + "; check the path, or re-import the data"
          + " set", e);
    } catch (IOException e) {
      throw new DatasetException(file, "cannot open TFRecord file " + file + ": " + e.getClass().getSimpleName()
          + ": " + e.getMessage() + "; check that it is a readable file", e);
    }
    try {
      long size = channel.size();
      if (size > 0) {
        long first = RecordIndex.probe(channel, 0, size);
        if (first < 0) {
          throw new DatasetException(file, file + " is not a TFRecord file: record 0 at offset 0 is not a record ("
              + RecordIndex.describeProbe(first) + "); check the path, or re-import the data set");
        }
      }
      RecordIndex index = RecordIndex.forFile(file, channel, warnings);
      SampleStatus tailStatus = SampleStatus.TRUNCATED;
      String tailDetail;
      long end = index.scanEnd();
      if (end == size) {
        tailDetail = "the file holds only " + index.count() + " records (" + size + " bytes)";
      } else {
        long probe = RecordIndex.probe(channel, end, size);
        if (probe == RecordIndex.PROBE_BAD_HEADER_CRC) {
          tailStatus = SampleStatus.BAD_RECORD_HEADER;
        }
        tailDetail = "the file's framing breaks at offset " + end + " of " + size + " after " + index.count()
            + " records (" + RecordIndex.describeProbe(probe) + "), so the records from there on cannot be located";
        warnings.accept(file + ": " + tailDetail);
      }
      return new TfRecordFile(file, channel, index, tailStatus, tailDetail);
    } catch (IOException | RuntimeException e) {
      try {
        channel.close();
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      if (e instanceof DatasetException) {
        throw (DatasetException) e;
      }
      throw new DatasetException(file, "cannot read TFRecord file " + file + ": " + e.getClass().getSimpleName() + ": "
          + e.getMessage(), e);
    }
  }

  public Path path() {
    return path;
  }

  /** The records that can be located: all of them unless the framing breaks before the end of the file. */
  public long records() {
    return index.count();
  }

  /** The file's size when opened. */
  public long size() {
    return index.dataSize();
  }

  /** True if every byte of the file belongs to a located record. */
  public boolean isWhole() {
    return index.scanEnd() == index.dataSize();
  }

  /** What a read of a record at or past {@link #records()} answers: TRUNCATED or BAD_RECORD_HEADER. */
  public SampleStatus tailStatus() {
    return tailStatus;
  }

  /** Why records past {@link #records()} cannot be read. */
  public String tailDetail() {
    return tailDetail;
  }

  /** The byte offset of record {@code record} (in [0, records())). */
  public long offset(long record) {
    return index.offset((int) Objects.checkIndex(record, index.count()));
  }

  /**
   * Reads record {@code record}. A record at or past {@link #records()} (one the file should hold but whose place
   * cannot be found) answers {@link #tailStatus()}; any other problem is reported, never thrown.
   *
   * @param record >= 0
   * @throws UncheckedIOException if the calling thread is interrupted (a cancelled read is not bad data); the
   *     interrupt flag stays set and later reads from other threads are unaffected
   */
  public RecordRead read(long record) {
    if (record < 0) {
      throw new IndexOutOfBoundsException("record " + record + " of " + path);
    }
    if (record >= index.count()) {
      return new RecordRead(tailStatus, index.scanEnd(), null, "record " + record + ": " + tailDetail);
    }
    int r = (int) record;
    long offset = index.offset(r);
    long frameBytes = index.end(r) - offset;
    if (frameBytes < TfRecordFormat.OVERHEAD_BYTES
        || frameBytes > TfRecordFormat.MAX_DATA_BYTES + TfRecordFormat.OVERHEAD_BYTES) {
      return new RecordRead(SampleStatus.BAD_RECORD_HEADER, offset, null, "record " + record + " spans "
          + frameBytes + " bytes in the index, not a whole record");
    }
    ByteBuffer frame = ByteBuffer.allocate((int) frameBytes);
    try {
      readFrame(frame, offset, (int) frameBytes);
    } catch (ClosedByInterruptException e) {
      Thread.currentThread().interrupt();
      throw new UncheckedIOException(new IOException("read of record " + record + " of " + path
          + " interrupted", e));
    } catch (EOFException e) {
      return new RecordRead(SampleStatus.TRUNCATED, offset, null, "record " + record + ": " + e.getMessage()
          + " (the file shrank after it was opened)");
    } catch (IOException e) {
      return new RecordRead(SampleStatus.IO_ERROR, offset, null, "record " + record + ": "
          + e.getClass().getSimpleName() + ": " + e.getMessage());
    }
    byte[] bytes = frame.array();
    long length = TfRecordFormat.headerLength(bytes, 0);
    long expected = frameBytes - TfRecordFormat.OVERHEAD_BYTES;
    if (length < 0) {
      return new RecordRead(SampleStatus.BAD_RECORD_HEADER, offset, null, "record " + record
          + "'s length header fails its CRC");
    }
    if (length != expected) {
      return new RecordRead(SampleStatus.BAD_RECORD_HEADER, offset, null, "record " + record + "'s header declares "
          + length + " data bytes but the index places " + expected + " there");
    }
    int dataEnd = TfRecordFormat.HEADER_BYTES + (int) length;
    if (TfRecordFormat.maskedCrc(bytes, TfRecordFormat.HEADER_BYTES, (int) length)
        != TfRecordFormat.getIntLe(bytes, dataEnd)) {
      return new RecordRead(SampleStatus.BAD_DATA_CRC, offset, null, "record " + record + "'s " + length
          + " data bytes fail their CRC");
    }
    return new RecordRead(SampleStatus.VALID, offset,
        ByteBuffer.wrap(bytes, TfRecordFormat.HEADER_BYTES, (int) length).slice(), "");
  }

  /** Reads one frame, reopening the channel once if an interrupted reader on another thread closed it. */
  private void readFrame(ByteBuffer frame, long offset, int length) throws IOException {
    FileChannel current = channel;
    try {
      RecordIndex.readFully(current, frame, offset, length);
    } catch (ClosedChannelException e) {
      if (closed || e instanceof ClosedByInterruptException) {
        throw e;
      }
      frame.clear();
      RecordIndex.readFully(reopen(current), frame, offset, length);
    }
  }

  private synchronized FileChannel reopen(FileChannel failed) throws IOException {
    if (channel == failed && !closed) {
      channel = FileChannel.open(path, StandardOpenOption.READ);
    }
    return channel;
  }

  @Override
  public synchronized void close() throws IOException {
    closed = true;
    channel.close();
  }

  @Override
  public String toString() {
    return path + " (" + index.count() + " records" + (isWhole() ? "" : ", damaged tail") + ")";
  }
}
