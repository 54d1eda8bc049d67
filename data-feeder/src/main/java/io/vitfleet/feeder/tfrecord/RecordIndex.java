package io.vitfleet.feeder.tfrecord;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.LongBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The record offsets of one TFRecord file, so that record r can be read with one positioned read instead of a scan.
 * Stored beside the data file as {@code <data file>.index}, built from the data on first use when missing, and
 * rebuilt (with a warning) whenever it disagrees with its data file.
 *
 * <p>Index file layout, all integers little-endian, 8-byte aligned so the offsets can be memory-mapped (an index costs
 * no heap, whatever the record count):
 *
 * <pre>
 *   offset  size  field
 *        0     8  magic "VFTFRIX1" (ASCII; the 1 is the layout version)
 *        8     8  int64 data size: byte length of the data file when indexed
 *       16     8  int64 data mtime: its last-modified time, nanoseconds since 1970
 *       24     8  int64 count: records indexed
 *       32     8  int64 scan end: the byte where the last indexed record ends; equal to the data size unless the
 *                 data file's framing breaks (a truncated tail, a header failing its CRC) before its end
 *       40  8*count  int64 offset of each record, ascending; the first is 0
 * </pre>
 *
 * <p>An index is trusted only if: the magic matches; the file holds exactly {@code count} offsets; the data file's
 * size and mtime are the recorded ones (a rewritten or touched data file invalidates its index); the offsets ascend
 * from 0 with at least a record's overhead between them and the last record ends exactly at the scan end, within the
 * data; the records at up to {@value #VERIFIED_HEADERS} evenly spaced offsets (all of them for small files) have
 * headers that pass their CRC and declare exactly the length the index implies; and no whole record starts at the
 * scan end. Anything else is "disagrees with its data file": the index is rebuilt by scanning the data's headers.
 *
 * <p>A scan follows the length headers from byte 0 and stops at the end of the file, at a header failing its CRC, or
 * at a record running past the end. It does not check the data CRCs (a reader checks them on every read), so a record
 * whose data is damaged keeps its place and the records after it stay readable; a damaged header ends the readable
 * part of the file, since nothing after it can be located with certainty.
 *
 * <p>A file holds at most {@value #MAX_RECORDS} records (the offsets must fit one 2 GiB mapping).
 */
public final class RecordIndex {
  /** Appended to the data file's name. */
  public static final String SUFFIX = ".index";
  /** Bytes before the offsets. */
  static final int HEADER_BYTES = 40;
  /** The most records one file may hold. */
  public static final long MAX_RECORDS = (Integer.MAX_VALUE - HEADER_BYTES) / Long.BYTES;
  /**
   * How many records' headers are read to confirm a stored index: a cheap check (one small read each) that catches an
   * index built for other content; more would slow every open of a large shard.
   */
  static final int VERIFIED_HEADERS = 256;
  private static final byte[] MAGIC = {'V', 'F', 'T', 'F', 'R', 'I', 'X', '1'};
  /** Read size of the scan that builds an index: large enough that headers, not calls, dominate. */
  private static final int SCAN_BUFFER_BYTES = 1 << 16;

  /** What lies at an offset: {@link #probe} answers a length >= 0 or one of these. */
  static final long PROBE_SHORT_HEADER = -1;
  static final long PROBE_BAD_HEADER_CRC = -2;
  static final long PROBE_PAST_END = -3;

  private final LongBuffer offsets;
  private final int count;
  private final long scanEnd;
  private final long dataSize;
  /** The data file's mtime when indexed (nanoseconds); only a stored index is checked against it. */
  private final long dataMtime;

  private RecordIndex(LongBuffer offsets, int count, long scanEnd, long dataSize, long dataMtime) {
    this.offsets = offsets;
    this.count = count;
    this.scanEnd = scanEnd;
    this.dataSize = dataSize;
    this.dataMtime = dataMtime;
  }

  /** Where the index of {@code dataFile} lives. */
  public static Path pathOf(Path dataFile) {
    return dataFile.resolveSibling(dataFile.getFileName() + SUFFIX);
  }

  /**
   * The index of {@code dataFile}: its stored index if that agrees with the data, otherwise a new one built from the
   * data and stored (or, if the folder is not writable, kept in memory), with a warning to {@code warnings}.
   *
   * @param data an open channel on {@code dataFile}
   */
  static RecordIndex forFile(Path dataFile, FileChannel data, Consumer<String> warnings) throws IOException {
    long size = data.size();
    long mtime = mtimeNanos(dataFile);
    Path indexFile = pathOf(dataFile);
    if (Files.exists(indexFile)) {
      RecordIndex stored = null;
      String problem;
      try {
        stored = map(indexFile);
        problem = stored.disagreement(data, size, mtime);
      } catch (CorruptIndex e) {
        problem = e.getMessage();
      } catch (IOException e) {
        problem = "cannot be read (" + e.getMessage() + ")";
      }
      if (problem == null) {
        return stored;
      }
      warnings.accept("index " + indexFile + " disagrees with its data file " + dataFile + ": " + problem
          + "; rebuilt it from the data file");
    }
    RecordIndex built = scan(data, size, mtime);
    try {
      built.write(indexFile);
    } catch (IOException e) {
      warnings.accept("cannot write index " + indexFile + " (" + e.getClass().getSimpleName() + ": " + e.getMessage()
          + "); using an in-memory index for this run: make the folder writable to keep it");
    }
    return built;
  }

  /** Builds the index by following the length headers from byte 0; see the class comment for where it stops. */
  static RecordIndex scan(FileChannel data, long size, long mtime) throws IOException {
    long[] found = new long[1024];
    int n = 0;
    ByteBuffer window = ByteBuffer.allocate(SCAN_BUFFER_BYTES);
    long windowStart = 0;
    long position = 0;
    window.limit(0);
    while (size - position >= TfRecordFormat.OVERHEAD_BYTES) {
      if (position < windowStart || position + TfRecordFormat.HEADER_BYTES > windowStart + window.limit()) {
        windowStart = position;
        window.clear();
        readFully(data, window, position, (int) Math.min(SCAN_BUFFER_BYTES, size - position));
        window.flip();
      }
      long length = TfRecordFormat.headerLength(window.array(), (int) (position - windowStart));
      if (length < 0 || position + TfRecordFormat.OVERHEAD_BYTES + length > size) {
        break;
      }
      if (n == found.length) {
        if (n >= MAX_RECORDS) {
          throw new IOException("more than " + MAX_RECORDS + " records in one file; split it into more shards");
        }
        found = Arrays.copyOf(found, (int) Math.min(MAX_RECORDS, 2L * n));
      }
      found[n++] = position;
      position += TfRecordFormat.OVERHEAD_BYTES + length;
    }
    return new RecordIndex(LongBuffer.wrap(found, 0, n).slice(), n, position, size, mtime);
  }

  /** An index of records written at {@code offsets[0 .. count)}, ending at {@code dataSize} (the writer's). */
  static void write(Path indexFile, long[] offsets, int count, long dataSize, long mtimeNanos) throws IOException {
    new RecordIndex(LongBuffer.wrap(offsets, 0, count).slice(), count, dataSize, dataSize, mtimeNanos)
        .write(indexFile);
  }

  private void write(Path indexFile) throws IOException {
    ByteBuffer bytes = ByteBuffer.allocate(HEADER_BYTES + count * Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    bytes.put(MAGIC).putLong(dataSize).putLong(dataMtime).putLong(count).putLong(scanEnd);
    for (int r = 0; r < count; r++) {
      bytes.putLong(offsets.get(r));
    }
    bytes.flip();
    Path tmp = indexFile.resolveSibling(indexFile.getFileName() + ".tmp-" + ProcessHandle.current().pid() + "-"
        + Thread.currentThread().getId());
    try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      while (bytes.hasRemaining()) {
        out.write(bytes);
      }
    }
    try {
      Files.move(tmp, indexFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, indexFile, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private static RecordIndex map(Path indexFile) throws IOException {
    try (FileChannel in = FileChannel.open(indexFile, StandardOpenOption.READ)) {
      long length = in.size();
      if (length < HEADER_BYTES || length > Integer.MAX_VALUE) {
        throw new CorruptIndex("is " + length + " bytes long, not a vitfleet record index");
      }
      ByteBuffer mapped = in.map(FileChannel.MapMode.READ_ONLY, 0, length).order(ByteOrder.LITTLE_ENDIAN);
      byte[] magic = new byte[MAGIC.length];
      mapped.get(0, magic);
      if (!Arrays.equals(magic, MAGIC)) {
        throw new CorruptIndex("does not start with the index magic " + new String(MAGIC, StandardCharsets.US_ASCII)
            + ", so it is not a vitfleet record index");
      }
      long dataSize = mapped.getLong(8);
      long count = mapped.getLong(24);
      long scanEnd = mapped.getLong(32);
      long offsets = (length - HEADER_BYTES) / Long.BYTES;
      if (count < 0 || count != offsets || (length - HEADER_BYTES) % Long.BYTES != 0) {
        throw new CorruptIndex("holds " + offsets + " offsets (" + length + " bytes) but its header says " + count
            + " records");
      }
      LongBuffer offsetsView = mapped.position(HEADER_BYTES).slice().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer();
      return new RecordIndex(offsetsView, (int) count, scanEnd, dataSize, mapped.getLong(16));
    }
  }

  /** Why this stored index cannot be trusted for the data file, or null if it can. */
  private String disagreement(FileChannel data, long size, long mtime) throws IOException {
    if (dataSize != size || dataMtime != mtime) {
      return "it was built for " + dataSize + " bytes modified at " + FileTime.from(dataMtime, TimeUnit.NANOSECONDS)
          + ", but the data file has " + size + " bytes modified at " + FileTime.from(mtime, TimeUnit.NANOSECONDS);
    }
    if (scanEnd < 0 || scanEnd > size) {
      return "its scan end " + scanEnd + " is beyond the data file's end " + size;
    }
    if (count == 0 && scanEnd != 0) {
      return "it holds no records but says they end at " + scanEnd;
    }
    for (int r = 0; r < count; r++) {
      long offset = offsets.get(r);
      if (offset < 0 || offset + TfRecordFormat.OVERHEAD_BYTES > scanEnd) {
        return "record " + r + "'s offset " + offset + " is beyond the end of the data (" + scanEnd + ")";
      }
      if (r == 0 && offset != 0) {
        return "record 0 is at offset " + offset + ", not 0";
      }
      if (r > 0 && offset < offsets.get(r - 1) + TfRecordFormat.OVERHEAD_BYTES) {
        return "record " + r + "'s offset " + offset + " is not a whole record past record " + (r - 1) + "'s";
      }
    }
    int checks = Math.min(count, VERIFIED_HEADERS);
    for (int k = 0; k < checks; k++) {
      int r = checks == count ? k : (int) ((long) k * (count - 1) / (checks - 1));
      long offset = offset(r);
      long expected = end(r) - offset - TfRecordFormat.OVERHEAD_BYTES;
      long length = probe(data, offset, size);
      if (length != expected) {
        return "record " + r + " at offset " + offset + " is not at a record boundary (" + describeProbe(length)
            + ", the index implies a record of " + expected + " data bytes)";
      }
    }
    if (scanEnd < size && probe(data, scanEnd, size) >= 0) {
      return "it ends at byte " + scanEnd + " but a whole record follows there";
    }
    return null;
  }

  /**
   * What is at {@code offset} of a data file of {@code size} bytes: the data length of a whole record whose header
   * passes its CRC, or {@link #PROBE_SHORT_HEADER}, {@link #PROBE_BAD_HEADER_CRC}, {@link #PROBE_PAST_END}.
   */
  static long probe(FileChannel data, long offset, long size) throws IOException {
    if (size - offset < TfRecordFormat.HEADER_BYTES) {
      return PROBE_SHORT_HEADER;
    }
    ByteBuffer header = ByteBuffer.allocate(TfRecordFormat.HEADER_BYTES);
    readFully(data, header, offset, TfRecordFormat.HEADER_BYTES);
    long length = TfRecordFormat.headerLength(header.array(), 0);
    if (length < 0) {
      return PROBE_BAD_HEADER_CRC;
    }
    return offset + TfRecordFormat.OVERHEAD_BYTES + length > size ? PROBE_PAST_END : length;
  }

  static String describeProbe(long probe) {
    if (probe == PROBE_SHORT_HEADER) {
      return "the file ends inside its header";
    }
    if (probe == PROBE_BAD_HEADER_CRC) {
      return "its length header fails its CRC";
    }
    if (probe == PROBE_PAST_END) {
      return "its length runs past the end of the file";
    }
    return "its header declares " + probe + " data bytes";
  }

  /** Reads exactly {@code length} bytes at {@code position} into {@code buffer}, or throws if the file is shorter. */
  static void readFully(FileChannel data, ByteBuffer buffer, long position, int length) throws IOException {
    int start = buffer.position();
    while (buffer.position() - start < length) {
      int n = data.read(buffer, position + buffer.position() - start);
      if (n < 0) {
        throw new java.io.EOFException("file ends at byte " + (position + buffer.position() - start) + ", "
            + (length - (buffer.position() - start)) + " bytes short of the read at " + position);
      }
    }
  }

  static long mtimeNanos(Path file) throws IOException {
    return Files.getLastModifiedTime(file).to(TimeUnit.NANOSECONDS);
  }

  /** Records indexed. */
  public int count() {
    return count;
  }

  /** Byte offset of record {@code record}. */
  public long offset(int record) {
    return offsets.get(record);
  }

  /** Where record {@code record} ends (the next record's offset, or the scan end for the last). */
  public long end(int record) {
    return record + 1 < count ? offsets.get(record + 1) : scanEnd;
  }

  /** The byte where the last indexed record ends: the data size for a whole file. */
  public long scanEnd() {
    return scanEnd;
  }

  /** The data size the index describes. */
  public long dataSize() {
    return dataSize;
  }

  /** A stored index that is not an index at all; its message says why. */
  private static final class CorruptIndex extends IOException {
    private static final long serialVersionUID = 1L;

    CorruptIndex(String message) {
      super(message);
    }
  }
}
