package io.vitfleet.feeder.tfrecord;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.vitfleet.feeder.ledger.ImageValidator;
import io.vitfleet.feeder.ledger.SampleLedger;
import io.vitfleet.feeder.ledger.ValidSampleReader;
import io.vitfleet.feeder.source.SampleRead;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fuzzing proof: random bit flips, overwrites, truncations, appended garbage, damaged indexes and deleted files,
 * over a few hundred seeded mutations of small shards. The reader must never throw, and every sample it calls valid
 * must be byte-for-byte the sample that was written; damage to the data must always be noticed.
 */
class TfRecordFuzzTest {
  private static final int SAMPLES = 60;
  private static final int SHARDS = 3;
  private static final int MUTATIONS = 300;
  private static final long SEED = 20_241_104L;

  private enum Mutation {
    FLIP_BITS, FLIP_BITS_KEEP_MTIME, OVERWRITE_RANGE_KEEP_MTIME, TRUNCATE, APPEND_GARBAGE, DAMAGE_INDEX,
    DELETE_INDEX, DELETE_SHARD
  }

  /** The samples as written, read once from the synthetic source. */
  private static final SampleRead[] ORIGINALS = new SampleRead[SAMPLES];

  static {
    for (int i = 0; i < SAMPLES; i++) {
      ORIGINALS[i] = TfRecordFixtures.SOURCE.read(i);
    }
  }

  @TempDir
  Path root;

  @Test
  void shouldNeverCrashNorPassADamagedSampleAsValid() throws IOException {
    Path pristine = root.resolve("pristine");
    TfRecordFixtures.write(pristine, "train", SAMPLES, SHARDS);
    SplittableRandom random = new SplittableRandom(SEED);
    Map<Mutation, Integer> invalidSeen = new EnumMap<>(Mutation.class);
    Mutation[] kinds = Mutation.values();
    for (int m = 0; m < MUTATIONS; m++) {
      Path dir = root.resolve("m" + m);
      copyWithTimes(pristine, dir);
      Mutation kind = kinds[random.nextInt(kinds.length)];
      Path shard = TfRecordFixtures.shard(dir, "train", random.nextInt(SHARDS), SHARDS);
      String what = "mutation " + m + " (" + kind + " of " + shard.getFileName() + ")";
      mutate(kind, shard, random);

      int invalid = readAll(dir, what);
      invalidSeen.merge(kind, invalid, Integer::sum);
      boolean damagesData = kind != Mutation.DAMAGE_INDEX && kind != Mutation.DELETE_INDEX
          && kind != Mutation.APPEND_GARBAGE;
      if (damagesData) {
        assertTrue(invalid > 0, what + ": the data was damaged but every sample read as valid");
      } else {
        assertEquals(0, invalid, what + ": only the index or the bytes after the last record were damaged, yet "
            + invalid + " samples read as invalid");
      }
      deleteTree(dir);
    }
    for (Mutation kind : kinds) {
      assertTrue(invalidSeen.containsKey(kind), "mutation " + kind + " was never tried: raise MUTATIONS");
    }
  }

  /**
   * Reads every sample straight and through the corrupt-sample rule; fails on any exception or any valid sample that
   * differs from the original.
   *
   * @return how many samples read as invalid
   */
  private static int readAll(Path dir, String what) {
    List<String> warnings = new ArrayList<>();
    int invalid = 0;
    try (TfRecordDataset data = TfRecordDataset.open(dir, "train", warnings::add);
        SampleLedger ledger = SampleLedger.inMemory()) {
      ValidSampleReader rule = new ValidSampleReader(data, ImageValidator.structural(), 7, ledger);
      for (long i = 0; i < SAMPLES; i++) {
        SampleRead read = data.read(i);
        if (read.isValid()) {
          assertOriginal(read, what);
        } else {
          invalid++;
        }
        SampleRead delivered = rule.read(0, i, i);
        assertTrue(delivered.isValid(), what + ": the rule delivered an invalid sample " + delivered);
        assertOriginal(delivered, what);
      }
      assertEquals(invalid, ledger.substitutions(0), what + ": ledger count");
    } catch (RuntimeException e) {
      fail(what + ": the reader threw " + e, e);
    }
    return invalid;
  }

  private static void assertOriginal(SampleRead read, String what) {
    SampleRead original = ORIGINALS[(int) read.index()];
    assertEquals(original.label(), read.label(), what + ": label of sample " + read.index());
    assertArrayEquals(original.image(), read.image(), what + ": image of sample " + read.index());
  }

  private static void mutate(Mutation kind, Path shard, SplittableRandom random) throws IOException {
    FileTime mtime = Files.getLastModifiedTime(shard);
    long size = Files.size(shard);
    switch (kind) {
      case FLIP_BITS:
      case FLIP_BITS_KEEP_MTIME:
        flipBits(shard, size, 1 + random.nextInt(4), random);
        break;
      case OVERWRITE_RANGE_KEEP_MTIME:
        xorRange(shard, random.nextLong(size), 1 + random.nextInt(64), random);
        break;
      case TRUNCATE:
        try (RandomAccessFile raf = new RandomAccessFile(shard.toFile(), "rw")) {
          raf.setLength(random.nextLong(size));
        }
        break;
      case APPEND_GARBAGE:
        byte[] garbage = new byte[1 + random.nextInt(100)];
        random.nextBytes(garbage);
        Files.write(shard, garbage, StandardOpenOption.APPEND);
        break;
      case DAMAGE_INDEX:
        Path index = RecordIndex.pathOf(shard);
        flipBits(index, Files.size(index), 1 + random.nextInt(4), random);
        break;
      case DELETE_INDEX:
        Files.delete(RecordIndex.pathOf(shard));
        break;
      case DELETE_SHARD:
        Files.delete(shard);
        return;
      default:
        throw new AssertionError(kind);
    }
    if (kind == Mutation.FLIP_BITS_KEEP_MTIME || kind == Mutation.OVERWRITE_RANGE_KEEP_MTIME) {
      Files.setLastModifiedTime(shard, mtime); // the index now looks fresh: the reads must still catch the damage
    }
  }

  /** Flips {@code count} distinct bits (so no two flips cancel). */
  private static void flipBits(Path file, long size, int count, SplittableRandom random) throws IOException {
    Set<Long> bits = new HashSet<>();
    while (bits.size() < count) {
      bits.add(random.nextLong(size * 8));
    }
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      for (long bit : bits) {
        raf.seek(bit / 8);
        int b = raf.read();
        raf.seek(bit / 8);
        raf.write(b ^ (1 << (bit % 8)));
      }
    }
  }

  /** XORs up to {@code length} bytes from {@code from} with non-zero random bytes, so each byte changes. */
  private static void xorRange(Path file, long from, int length, SplittableRandom random) throws IOException {
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      for (long p = from; p < Math.min(from + length, raf.length()); p++) {
        raf.seek(p);
        int b = raf.read();
        raf.seek(p);
        raf.write(b ^ (1 + random.nextInt(255)));
      }
    }
  }

  private static void copyWithTimes(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    try (DirectoryStream<Path> files = Files.newDirectoryStream(from)) {
      for (Path f : files) {
        Files.copy(f, to.resolve(f.getFileName()), StandardCopyOption.COPY_ATTRIBUTES);
      }
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
