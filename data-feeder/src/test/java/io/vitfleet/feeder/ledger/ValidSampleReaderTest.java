package io.vitfleet.feeder.ledger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitfleet.feeder.DatasetException;
import io.vitfleet.feeder.EpochOrder;
import io.vitfleet.feeder.source.ImageFormat;
import io.vitfleet.feeder.source.ImageShape;
import io.vitfleet.feeder.source.SampleRead;
import io.vitfleet.feeder.source.SampleSource;
import io.vitfleet.feeder.source.SampleStatus;
import io.vitfleet.feeder.synthetic.SyntheticDataset;
import java.util.Arrays;
import java.util.List;
import java.util.function.LongFunction;
import org.junit.jupiter.api.Test;

class ValidSampleReaderTest {
  private static final long N = SyntheticDataset.DEFAULT_SIZE;
  private static final long SEED = 42;
  private static final ImageShape SHAPE = new ImageShape(4, 4, 1);
  /** One sample in ten invalid, scattered over three billion. */
  private static final SyntheticDataset TEN_PERCENT_BAD =
      new SyntheticDataset(N, 100, SHAPE, SyntheticDataset.Encoding.PNG, 100_000);

  /** A source that answers like {@code base} except where {@code override} returns non-null. */
  private static SampleSource overriding(SampleSource base, LongFunction<SampleRead> override) {
    return new SampleSource() {
      @Override
      public long size() {
        return base.size();
      }

      @Override
      public int classes() {
        return base.classes();
      }

      @Override
      public long[] shardSizes() {
        return base.shardSizes();
      }

      @Override
      public ImageShape imageShape() {
        return base.imageShape();
      }

      @Override
      public SampleRead read(long index) {
        SampleRead r = override.apply(index);
        return r != null ? r : base.read(index);
      }

      @Override
      public String describe() {
        return "test source";
      }

      @Override
      public void close() {
      }
    };
  }

  @Test
  void shouldDeliverTheScheduledSampleWhenItIsValid() {
    SyntheticDataset clean = new SyntheticDataset(N, 10, SHAPE, SyntheticDataset.Encoding.PNG, 0);
    try (SampleLedger ledger = SampleLedger.inMemory()) {
      ValidSampleReader reader = new ValidSampleReader(clean, ImageValidator.structural(), SEED, ledger);
      SampleRead read = reader.read(3, 7 * N + 5, 2_999_999_999L);
      assertEquals(2_999_999_999L, read.index());
      assertArrayEquals(clean.read(2_999_999_999L).image(), read.image());
      assertEquals(List.of(), ledger.entries());
    }
  }

  @Test
  void shouldSubstituteEveryInvalidSampleOfAStepAndRecordItWithItsPosition() {
    EpochOrder order = new EpochOrder(N);
    long step = 1_234_567;
    long epoch = 5;
    long first = epoch * N + 2_000_000_000L;
    try (SampleLedger ledger = SampleLedger.inMemory()) {
      ValidSampleReader reader = new ValidSampleReader(TEN_PERCENT_BAD, ImageValidator.structural(), SEED, ledger);
      int invalid = 0;
      for (long p = first; p < first + 400; p++) {
        long scheduled = order.index(SEED, epoch, p % N);
        SampleRead delivered = reader.read(step, p, scheduled);
        assertTrue(delivered.isValid(), delivered.toString());
        if (TEN_PERCENT_BAD.isInjectedInvalid(scheduled)) {
          invalid++;
          assertNotEquals(scheduled, delivered.index());
          LedgerEntry entry = ledger.entries().stream().filter(e -> e.sample() == scheduled && e.draw() == 0)
              .findFirst().orElseThrow();
          assertEquals(step, entry.step());
          assertEquals(p, entry.position());
          assertEquals("BAD_DATA_CRC", entry.reason());
          assertEquals(delivered.index(), entry.substitute());
          assertTrue(entry.file().startsWith("synthetic shard "), entry.file());
        } else {
          assertEquals(scheduled, delivered.index());
        }
      }
      assertTrue(invalid >= 20 && invalid <= 65, "about 40 of 400 should be invalid, got " + invalid);
      assertEquals(invalid, ledger.substitutions(step));
    }
  }

  @Test
  void shouldDeliverIdenticalBytesWhenAStepIsReplayedAnywhereAndCountItOnce() {
    long position = 9 * N + 77;
    long scheduled = firstInjectedInvalid(1_000_000);
    try (SampleLedger ledger = SampleLedger.inMemory(); SampleLedger other = SampleLedger.inMemory()) {
      ValidSampleReader reader = new ValidSampleReader(TEN_PERCENT_BAD, ImageValidator.structural(), SEED, ledger);
      SampleRead once = reader.read(50, position, scheduled);
      SampleRead again = reader.read(50, position, scheduled);
      SampleRead elsewhere = new ValidSampleReader(
          new SyntheticDataset(N, 100, SHAPE, SyntheticDataset.Encoding.PNG, 100_000), ImageValidator.structural(),
          SEED, other).read(50, position, scheduled);
      assertEquals(once.index(), again.index());
      assertEquals(once.index(), elsewhere.index());
      assertArrayEquals(once.image(), elsewhere.image());
      assertEquals(1, ledger.substitutions(50));
      assertEquals(ledger.entries(), other.entries());
    }
  }

  @Test
  void shouldDrawSubstitutesAsAPureFunctionOfSeedAndPosition() {
    // The pinned values at the end guard the rule: changing it changes which sample replaced a bad one in every run.
    long[] draws = new long[4];
    for (int k = 1; k <= 4; k++) {
      draws[k - 1] = ValidSampleReader.candidate(SEED, 5 * N + 123, k, N);
      assertTrue(draws[k - 1] >= 0 && draws[k - 1] < N);
    }
    assertEquals(4, Arrays.stream(draws).distinct().count());
    assertNotEquals(ValidSampleReader.candidate(SEED, 123, 1, N), ValidSampleReader.candidate(SEED, 123 + N, 1, N),
        "another epoch, another substitute");
    assertNotEquals(ValidSampleReader.candidate(SEED, 123, 1, N), ValidSampleReader.candidate(SEED + 1, 123, 1, N));
    assertEquals(405, ValidSampleReader.candidate(0, 0, 1, 1000));
    assertEquals(2_593_082_464L, ValidSampleReader.candidate(SEED, 3 * N + 17, 2, N));
  }

  @Test
  void shouldTreatAnUndecodableImageAsInvalidWithTheValidatorsReason() {
    SyntheticDataset clean = new SyntheticDataset(1000, 10, SHAPE, SyntheticDataset.Encoding.PNG, 0);
    SampleSource source = overriding(clean, i -> {
      if (i != 3) {
        return null;
      }
      SampleRead good = clean.read(3);
      byte[] damaged = good.image().clone();
      damaged[damaged.length - 20] ^= 1;
      return SampleRead.valid(3, good.label(), damaged, ImageFormat.PNG, "shard-0", 812);
    });
    try (SampleLedger ledger = SampleLedger.inMemory()) {
      SampleRead delivered = new ValidSampleReader(source, ImageValidator.structural(), SEED, ledger).read(0, 3, 3);
      assertNotEquals(3, delivered.index());
      LedgerEntry entry = ledger.entries().get(0);
      assertEquals("UNDECODABLE_IMAGE", entry.reason());
      assertEquals("shard-0", entry.file());
      assertEquals(812, entry.offset());
      assertTrue(entry.detail().contains("fails its CRC"), entry.detail());
    }
  }

  @Test
  void shouldTreatRawPixelsOfTheWrongLengthAsInvalid() {
    SyntheticDataset raw = new SyntheticDataset(1000, 10, SHAPE, SyntheticDataset.Encoding.RAW, 0);
    SampleSource source = overriding(raw, i -> i == 8 ? SampleRead.valid(8, 1, new byte[5], ImageFormat.RAW, "x", -1)
        : null);
    try (SampleLedger ledger = SampleLedger.inMemory()) {
      ValidSampleReader reader = new ValidSampleReader(source, ImageValidator.acceptAll(), SEED, ledger);
      assertNotEquals(8, reader.read(0, 0, 8).index());
      assertTrue(ledger.entries().get(0).detail().contains("raw image of 5 bytes"), ledger.entries().toString());
      SampleRead fine = raw.read(9);
      assertSame(SampleStatus.VALID, reader.checked(fine).status());
    }
  }

  @Test
  void shouldStopWithAClearMessageOnlyWhenTheDataSetIsUnreadable() {
    SyntheticDataset allBad = new SyntheticDataset(N, 10, SHAPE, SyntheticDataset.Encoding.RAW, 1_000_000);
    try (SampleLedger ledger = SampleLedger.inMemory()) {
      ValidSampleReader reader = new ValidSampleReader(allBad, ImageValidator.structural(), SEED, ledger, 16);
      DatasetException e = assertThrows(DatasetException.class, () -> reader.read(2, 100, 100));
      assertTrue(e.getMessage().startsWith("no valid sample for step 2 position 100: sample 100 and 16 substitute"
          + " candidates are all invalid"), e.getMessage());
      assertTrue(e.getMessage().contains("entirely unreadable"), e.getMessage());
    }
  }

  private static long firstInjectedInvalid(long from) {
    long i = from;
    while (!TEN_PERCENT_BAD.isInjectedInvalid(i)) {
      i++;
    }
    return i;
  }
}
