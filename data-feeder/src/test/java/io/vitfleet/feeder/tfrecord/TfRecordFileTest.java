package io.vitfleet.feeder.tfrecord;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitfleet.feeder.DatasetException;
import io.vitfleet.feeder.source.SampleStatus;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TfRecordFileTest {
  private static final int RECORDS = 10;

  @TempDir
  Path dir;

  private final List<String> warnings = new ArrayList<>();

  /** Record i holds "record i" followed by i * 7 'x's: records of different lengths. */
  private static byte[] data(int i) {
    return ("record " + i + "x".repeat(i * 7)).getBytes(StandardCharsets.US_ASCII);
  }

  private Path writeFile() throws IOException {
    Path file = dir.resolve("data.tfrecord");
    try (TfRecordWriter writer = TfRecordWriter.create(file)) {
      for (int i = 0; i < RECORDS; i++) {
        writer.write(data(i));
      }
    }
    return file;
  }

  private TfRecordFile open(Path file) {
    return TfRecordFile.open(file, warnings::add);
  }

  private static byte[] bytes(TfRecordFile.RecordRead read) {
    ByteBuffer data = read.data();
    byte[] copy = new byte[data.remaining()];
    data.get(copy);
    return copy;
  }

  private static long offsetOf(int record) {
    long offset = 0;
    for (int i = 0; i < record; i++) {
      offset += TfRecordFormat.OVERHEAD_BYTES + data(i).length;
    }
    return offset;
  }

  private static void flipByte(Path file, long position) throws IOException {
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.seek(position);
      int b = raf.read();
      raf.seek(position);
      raf.write(b ^ 0x20);
    }
  }

  /** Overwrites the little-endian long at {@code position} of the index, keeping its header fresh. */
  private static void putIndexLong(Path file, long position, long value) throws IOException {
    Path index = RecordIndex.pathOf(file);
    try (RandomAccessFile raf = new RandomAccessFile(index.toFile(), "rw")) {
      raf.seek(position);
      raf.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array());
    }
  }

  @Test
  void shouldReadEveryRecordBackByNumber() throws IOException {
    try (TfRecordFile file = open(writeFile())) {
      assertEquals(RECORDS, file.records());
      for (int i = RECORDS - 1; i >= 0; i--) {
        TfRecordFile.RecordRead read = file.read(i);
        assertEquals(SampleStatus.VALID, read.status(), read.detail());
        assertEquals(offsetOf(i), read.offset());
        assertArrayEquals(data(i), bytes(read));
      }
      assertTrue(file.isWhole());
    }
    assertEquals(List.of(), warnings);
  }

  @Test
  void shouldBuildAMissingIndexOnFirstUseWithoutAWarning() throws IOException {
    Path file = writeFile();
    Files.delete(RecordIndex.pathOf(file));
    try (TfRecordFile f = open(file)) {
      assertEquals(RECORDS, f.records());
      assertArrayEquals(data(7), bytes(f.read(7)));
    }
    assertTrue(Files.isRegularFile(RecordIndex.pathOf(file)));
    assertEquals(List.of(), warnings);
  }

  @Test
  void shouldRebuildTheIndexWithAWarningWhenTheDataFileChangedSince() throws IOException {
    Path file = writeFile();
    Files.setLastModifiedTime(file, FileTime.fromMillis(Files.getLastModifiedTime(file).toMillis() + 5_000));
    try (TfRecordFile f = open(file)) {
      assertArrayEquals(data(9), bytes(f.read(9)));
    }
    assertEquals(1, warnings.size(), warnings.toString());
    assertTrue(warnings.get(0).contains("disagrees with its data file") && warnings.get(0).contains("modified"),
        warnings.get(0));
    warnings.clear();
    open(file).close();
    assertEquals(List.of(), warnings, "the rebuilt index is trusted next time");
  }

  @Test
  void shouldRebuildAnIndexHoldingTheWrongNumberOfOffsets() throws IOException {
    Path file = writeFile();
    Path index = RecordIndex.pathOf(file);
    byte[] bytes = Files.readAllBytes(index);
    Files.write(index, Arrays.copyOf(bytes, bytes.length - 8));
    try (TfRecordFile f = open(file)) {
      assertEquals(RECORDS, f.records());
    }
    assertTrue(warnings.get(0).contains("holds 9 offsets") && warnings.get(0).contains("says 10 records"),
        warnings.toString());
  }

  @Test
  void shouldRebuildAnIndexWithAnOffsetBeyondTheEndOfTheData() throws IOException {
    Path file = writeFile();
    putIndexLong(file, RecordIndex.HEADER_BYTES + 8L * 9, 1L << 40);
    try (TfRecordFile f = open(file)) {
      assertArrayEquals(data(9), bytes(f.read(9)));
    }
    assertTrue(warnings.get(0).contains("beyond the end"), warnings.toString());
  }

  @Test
  void shouldRebuildAnIndexWhoseOffsetIsNotAtARecordBoundary() throws IOException {
    Path file = writeFile();
    putIndexLong(file, RecordIndex.HEADER_BYTES + 8L * 4, offsetOf(4) + 3);
    try (TfRecordFile f = open(file)) {
      assertArrayEquals(data(4), bytes(f.read(4)));
      assertArrayEquals(data(3), bytes(f.read(3)));
    }
    assertTrue(warnings.get(0).contains("not at a record boundary"), warnings.toString());
  }

  @Test
  void shouldRebuildAnIndexThatIsNotAnIndex() throws IOException {
    Path file = writeFile();
    Files.writeString(RecordIndex.pathOf(file), "this is not an index, just text long enough to have a header");
    try (TfRecordFile f = open(file)) {
      assertEquals(RECORDS, f.records());
    }
    assertTrue(warnings.get(0).contains("not a vitfleet record index"), warnings.toString());
  }

  @Test
  void shouldKeepAnInMemoryIndexWhenTheIndexCannotBeWritten() throws IOException {
    Path file = writeFile();
    Path index = RecordIndex.pathOf(file);
    Files.delete(index);
    Files.createDirectories(index.resolve("blocker"));
    try (TfRecordFile f = open(file)) {
      assertArrayEquals(data(5), bytes(f.read(5)));
    }
    assertTrue(warnings.stream().anyMatch(w -> w.contains("using an in-memory index")), warnings.toString());
  }

  @Test
  void shouldRejectAFileThatIsNotATfRecordFileNamingItAndRecordZero() throws IOException {
    Path file = dir.resolve("fake.tfrecord");
    Files.writeString(file, "GIF89a this is some other kind of file entirely");
    DatasetException e = assertThrows(DatasetException.class, () -> open(file));
    assertTrue(e.getMessage().startsWith(file + " is not a TFRecord file: record 0 at offset 0"), e.getMessage());
    assertTrue(e.getMessage().contains("fails its CRC"), e.getMessage());
    assertFalse(Files.exists(RecordIndex.pathOf(file)), "no index is written beside a file that is not TFRecord");
  }

  @Test
  void shouldRejectAMissingFileWithItsPath() {
    Path file = dir.resolve("absent.tfrecord");
    DatasetException e = assertThrows(DatasetException.class, () -> open(file));
    assertEquals(file, e.file());
    assertTrue(e.getMessage().contains("not found: " + file), e.getMessage());
  }

  @Test
  void shouldReportABadDataCrcForTheDamagedRecordOnly() throws IOException {
    Path file = writeFile();
    flipByte(file, offsetOf(3) + TfRecordFormat.HEADER_BYTES + 2);
    try (TfRecordFile f = open(file)) {
      assertEquals(RECORDS, f.records(), "a damaged payload keeps its place in the index");
      TfRecordFile.RecordRead bad = f.read(3);
      assertEquals(SampleStatus.BAD_DATA_CRC, bad.status());
      assertEquals(offsetOf(3), bad.offset());
      for (int i : new int[] {0, 2, 4, 9}) {
        assertArrayEquals(data(i), bytes(f.read(i)));
      }
    }
  }

  @Test
  void shouldKeepTheRecordsBeforeATruncationAndReportTheRestAsTruncated() throws IOException {
    Path file = writeFile();
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.setLength(offsetOf(5) + 20);
    }
    try (TfRecordFile f = open(file)) {
      assertEquals(5, f.records());
      assertFalse(f.isWhole());
      assertArrayEquals(data(4), bytes(f.read(4)));
      TfRecordFile.RecordRead cut = f.read(5);
      assertEquals(SampleStatus.TRUNCATED, cut.status());
      assertEquals(offsetOf(5), cut.offset());
      assertEquals(SampleStatus.TRUNCATED, f.read(9).status());
    }
    assertTrue(warnings.stream().anyMatch(w -> w.contains("framing breaks at offset " + offsetOf(5))),
        warnings.toString());
  }

  @Test
  void shouldStopAtABrokenLengthHeaderSinceNothingAfterItCanBeLocated() throws IOException {
    Path file = writeFile();
    flipByte(file, offsetOf(4) + 1);
    try (TfRecordFile f = open(file)) {
      assertEquals(4, f.records());
      assertEquals(SampleStatus.VALID, f.read(3).status());
      assertEquals(SampleStatus.BAD_RECORD_HEADER, f.read(4).status());
      assertEquals(SampleStatus.BAD_RECORD_HEADER, f.read(8).status());
      assertEquals(offsetOf(4), f.read(8).offset());
    }
  }

  @Test
  void shouldCatchAHeaderDamagedBehindTheBackOfAFreshLookingIndex() throws IOException {
    Path file = writeFile();
    FileTime mtime = Files.getLastModifiedTime(file);
    flipByte(file, offsetOf(6) + 9);
    Files.setLastModifiedTime(file, mtime);
    try (TfRecordFile f = open(file)) {
      assertEquals(SampleStatus.VALID, f.read(5).status());
      assertEquals(SampleStatus.BAD_RECORD_HEADER, f.read(6).status());
    }
  }

  @Test
  void shouldThrowForAnInterruptedReadAndStillServeTheNextOne() throws IOException {
    try (TfRecordFile f = open(writeFile())) {
      Thread.currentThread().interrupt();
      try {
        assertThrows(UncheckedIOException.class, () -> f.read(1));
      } finally {
        assertTrue(Thread.interrupted(), "the interrupt flag is kept for the caller");
      }
      assertArrayEquals(data(2), bytes(f.read(2)), "the channel closed by the interrupt is reopened");
    }
  }

  @Test
  void shouldReadAnEmptyFileAsNoRecords() throws IOException {
    Path file = dir.resolve("empty.tfrecord");
    Files.write(file, new byte[0]);
    try (TfRecordFile f = open(file)) {
      assertEquals(0, f.records());
      assertTrue(f.isWhole());
      assertEquals(SampleStatus.TRUNCATED, f.read(0).status());
    }
  }
}
