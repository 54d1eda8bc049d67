package io.vitfleet.feeder.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitfleet.feeder.DatasetException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SampleLedgerTest {
  @TempDir
  Path dir;

  private static LedgerEntry entry(long step, long position, int draw) {
    return new LedgerEntry(step, position, draw, 1000 + position, "/data/x-train.tfrecord-00001-of-00004", 4096,
        "BAD_DATA_CRC", "record 3's 812 data bytes fail their CRC", 77);
  }

  @Test
  void shouldCountSubstitutionsPerStepFromTheScheduledSamplesOnly() {
    try (SampleLedger ledger = SampleLedger.inMemory()) {
      ledger.record(entry(4, 10, 0));
      ledger.record(entry(4, 10, 1));
      ledger.record(entry(4, 12, 0));
      ledger.record(entry(5, 20, 0));
      assertEquals(2, ledger.substitutions(4));
      assertEquals(1, ledger.substitutions(5));
      assertEquals(0, ledger.substitutions(6));
      assertEquals(3, ledger.substitutions());
      assertEquals(3, ledger.entries(4).size());
    }
  }

  @Test
  void shouldNotRecordAReplayedStepTwice() {
    try (SampleLedger ledger = SampleLedger.inMemory()) {
      assertTrue(ledger.record(entry(4, 10, 0)));
      assertFalse(ledger.record(entry(4, 10, 0)));
      assertEquals(1, ledger.substitutions(4));
      assertEquals(1, ledger.entries().size());
    }
  }

  @Test
  void shouldAppendToAFileAndReloadItAfterARestart() throws IOException {
    Path file = dir.resolve("ledger/samples.tsv");
    try (SampleLedger ledger = SampleLedger.openFile(file)) {
      ledger.record(entry(4, 10, 0));
      ledger.record(entry(4, 11, 0));
    }
    List<String> lines = Files.readAllLines(file);
    assertEquals(SampleLedger.HEADER, lines.get(0));
    assertEquals("4\t10\t0\t1010\t77\tBAD_DATA_CRC\t/data/x-train.tfrecord-00001-of-00004\t4096\trecord 3's 812 data "
        + "bytes fail their CRC", lines.get(1));
    try (SampleLedger reopened = SampleLedger.openFile(file)) {
      assertEquals(List.of(entry(4, 10, 0), entry(4, 11, 0)), reopened.entries());
      assertFalse(reopened.record(entry(4, 11, 0)), "a replay after the restart is recognised");
      assertTrue(reopened.record(entry(5, 30, 0)));
    }
    assertEquals(4, Files.readAllLines(file).size());
  }

  @Test
  void shouldDropALineTornByACrash() throws IOException {
    Path file = dir.resolve("samples.tsv");
    try (SampleLedger ledger = SampleLedger.openFile(file)) {
      ledger.record(entry(4, 10, 0));
    }
    Files.writeString(file, "4\t11\t0\t10", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    try (SampleLedger reopened = SampleLedger.openFile(file)) {
      assertEquals(1, reopened.entries().size());
      reopened.record(entry(4, 11, 0));
    }
    try (SampleLedger again = SampleLedger.openFile(file)) {
      assertEquals(List.of(entry(4, 10, 0), entry(4, 11, 0)), again.entries());
    }
  }

  @Test
  void shouldRefuseAFileThatIsNotALedgerNamingTheLine() throws IOException {
    Path file = dir.resolve("samples.tsv");
    Files.writeString(file, SampleLedger.HEADER + "\nhello world\n");
    DatasetException e = assertThrows(DatasetException.class, () -> SampleLedger.openFile(file));
    assertTrue(e.getMessage().startsWith("line 2 of sample ledger " + file), e.getMessage());
  }

  @Test
  void shouldKeepTabsAndNewlinesInTextFromBreakingTheFormat() throws IOException {
    Path file = dir.resolve("samples.tsv");
    LedgerEntry odd = new LedgerEntry(1, 2, 0, 3, "a\tb", -1, "BAD_EXAMPLE", "line one\nline two", 4);
    try (SampleLedger ledger = SampleLedger.openFile(file)) {
      ledger.record(odd);
    }
    try (SampleLedger reopened = SampleLedger.openFile(file)) {
      LedgerEntry back = reopened.entries().get(0);
      assertEquals("a b", back.file());
      assertEquals("line one line two", back.detail());
    }
  }
}
