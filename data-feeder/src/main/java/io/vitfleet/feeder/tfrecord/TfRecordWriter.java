package io.vitfleet.feeder.tfrecord;

import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Writes one TFRecord file ({@link TfRecordFormat}) record by record and, on {@link #close}, its {@link RecordIndex}
 * beside it, so a fresh file never needs a scan. An existing file of the same name is replaced.
 */
public final class TfRecordWriter implements Closeable {
  private static final int BUFFER_BYTES = 1 << 16;

  private final Path file;
  private final OutputStream out;
  private long[] offsets = new long[1024];
  private int records;
  private long bytes;
  private boolean closed;

  private TfRecordWriter(Path file, OutputStream out) {
    this.file = file;
    this.out = out;
  }

  /** Creates (or truncates) {@code file}. */
  public static TfRecordWriter create(Path file) throws IOException {
    Files.deleteIfExists(RecordIndex.pathOf(file));
    return new TfRecordWriter(file, new BufferedOutputStream(Files.newOutputStream(file), BUFFER_BYTES));
  }

  /**
   * Appends one record holding {@code data}.
   *
   * @return the record's byte offset in the file
   */
  public long write(byte[] data) throws IOException {
    if (closed) {
      throw new IllegalStateException("TFRecord writer of " + file + " is closed");
    }
    if (data.length > TfRecordFormat.MAX_DATA_BYTES) {
      throw new IllegalArgumentException("record of " + data.length + " bytes is larger than the "
          + TfRecordFormat.MAX_DATA_BYTES + " a record may hold");
    }
    if (records == RecordIndex.MAX_RECORDS) {
      throw new IllegalStateException(file + " already holds " + records + " records, the most one file may hold");
    }
    if (records == offsets.length) {
      offsets = Arrays.copyOf(offsets, (int) Math.min(RecordIndex.MAX_RECORDS, 2L * records));
    }
    long offset = bytes;
    out.write(TfRecordFormat.header(data.length));
    out.write(data);
    byte[] crc = new byte[TfRecordFormat.FOOTER_BYTES];
    TfRecordFormat.putIntLe(crc, 0, TfRecordFormat.maskedCrc(data, 0, data.length));
    out.write(crc);
    offsets[records++] = offset;
    bytes += TfRecordFormat.OVERHEAD_BYTES + data.length;
    return offset;
  }

  public Path file() {
    return file;
  }

  /** Records written so far. */
  public int records() {
    return records;
  }

  /** Bytes written so far. */
  public long bytes() {
    return bytes;
  }

  /** Flushes and closes the file, then writes its index with the file's final size and mtime. */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    out.close();
    RecordIndex.write(RecordIndex.pathOf(file), offsets, records, bytes, RecordIndex.mtimeNanos(file));
  }
}
