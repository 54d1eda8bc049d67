package io.vitfleet.feeder.ledger;

import io.vitfleet.feeder.DatasetException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The record of every invalid sample the feeder met and what it delivered instead ({@link LedgerEntry}), kept in
 * memory and, optionally, appended to a file, so that an operator can find each bad record (file and offset) and a
 * run can be audited: which positions of which steps were substituted.
 *
 * <p>A step that is aborted and run again meets the same invalid samples at the same positions: an entry whose (step,
 * position, draw) is already recorded is not recorded twice, so counts per step stay exact across replays and
 * restarts (a file ledger reloads its entries when opened).
 *
 * <p>File format: UTF-8 text, one entry per line, tab-separated in the order of the header line {@code # vitfleet
 * sample ledger 1: step position draw sample substitute reason file offset detail}; lines starting with '#' are
 * comments. Entries are appended and flushed one by one (they are rare); a line torn by a crash is dropped when the
 * file is next opened, and its entry is recorded again when the uncommitted step replays. Thread-safe.
 */
public final class SampleLedger implements AutoCloseable {
  static final String HEADER = "# vitfleet sample ledger 1: " + LedgerEntry.COLUMNS.replace('\t', ' ');

  private final Path file;
  private final Writer out;
  private final List<LedgerEntry> entries = new ArrayList<>();
  private final Set<Key> recorded = new HashSet<>();
  private final Map<Long, Integer> substitutionsPerStep = new HashMap<>();

  private record Key(long step, long position, int draw) {}

  private SampleLedger(Path file, Writer out) {
    this.file = file;
    this.out = out;
  }

  /** A ledger kept in memory only. */
  public static SampleLedger inMemory() {
    return new SampleLedger(null, null);
  }

  /**
   * A ledger appended to {@code file}, created if missing; its existing entries are loaded.
   *
   * @throws DatasetException if the file holds a line that is not a ledger entry
   */
  public static SampleLedger openFile(Path file) {
    try {
      if (file.toAbsolutePath().getParent() != null) {
        Files.createDirectories(file.toAbsolutePath().getParent());
      }
      List<LedgerEntry> existing = new ArrayList<>();
      if (Files.exists(file)) {
        dropTornLine(file);
        int lineNumber = 0;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
          lineNumber++;
          if (line.isEmpty() || line.startsWith("#")) {
            continue;
          }
          try {
            existing.add(LedgerEntry.parse(line));
          } catch (IllegalArgumentException e) {
            throw new DatasetException(file, "line " + lineNumber + " of sample ledger " + file + " is not a ledger"
                + " entry (" + e.getMessage() + "); move the file away or fix the line", e);
          }
        }
      }
      boolean fresh = !Files.exists(file) || Files.size(file) == 0;
      Writer out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
      SampleLedger ledger = new SampleLedger(file, out);
      if (fresh) {
        out.write(HEADER + "\n");
        out.flush();
      }
      existing.forEach(ledger::remember);
      return ledger;
    } catch (IOException e) {
      throw new DatasetException(file, "cannot open sample ledger " + file + ": " + e.getMessage()
          + "; choose a writable path", e);
    }
  }

  /** Truncates a last line that a crash cut before its newline. */
  private static void dropTornLine(Path file) throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    int end = bytes.length;
    while (end > 0 && bytes[end - 1] != '\n') {
      end--;
    }
    if (end < bytes.length) {
      try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
        channel.truncate(end);
      }
    }
  }

  /**
   * Records {@code entry} unless an entry of the same (step, position, draw) is recorded already.
   *
   * @return true if recorded now, false if it was a repeat (a replayed step)
   * @throws UncheckedIOException if the ledger file cannot be written
   */
  public synchronized boolean record(LedgerEntry entry) {
    if (!remember(entry)) {
      return false;
    }
    if (out != null) {
      try {
        out.write(entry.toLine() + "\n");
        out.flush();
      } catch (IOException e) {
        throw new UncheckedIOException(new IOException("cannot append to sample ledger " + file + ": "
            + e.getMessage(), e));
      }
    }
    return true;
  }

  private boolean remember(LedgerEntry entry) {
    if (!recorded.add(new Key(entry.step(), entry.position(), entry.draw()))) {
      return false;
    }
    entries.add(entry);
    if (entry.draw() == 0) {
      substitutionsPerStep.merge(entry.step(), 1, Integer::sum);
    }
    return true;
  }

  /** Every entry, in the order recorded. */
  public synchronized List<LedgerEntry> entries() {
    return List.copyOf(entries);
  }

  /** The entries of step {@code step}, in the order recorded. */
  public synchronized List<LedgerEntry> entries(long step) {
    List<LedgerEntry> result = new ArrayList<>();
    for (LedgerEntry e : entries) {
      if (e.step() == step) {
        result.add(e);
      }
    }
    return result;
  }

  /** How many positions of step {@code step} got a substitute because their scheduled sample was invalid. */
  public synchronized int substitutions(long step) {
    return substitutionsPerStep.getOrDefault(step, 0);
  }

  /** How many positions got a substitute, over all steps. */
  public synchronized long substitutions() {
    long total = 0;
    for (int n : substitutionsPerStep.values()) {
      total += n;
    }
    return total;
  }

  /** The ledger file, or null for an in-memory ledger. */
  public Path file() {
    return file;
  }

  @Override
  public synchronized void close() {
    if (out != null) {
      try {
        out.close();
      } catch (IOException e) {
        throw new UncheckedIOException(new IOException("cannot close sample ledger " + file + ": " + e.getMessage(),
            e));
      }
    }
  }
}
