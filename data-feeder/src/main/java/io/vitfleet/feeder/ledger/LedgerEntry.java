package io.vitfleet.feeder.ledger;

/**
 * One invalid sample met while filling a step, as the {@link SampleLedger} records it.
 *
 * @param step the training step
 * @param position the global stream position whose sample was being resolved (epoch * N + position in epoch)
 * @param draw 0 for the sample the epoch order scheduled at {@code position}; k >= 1 for the k-th substitute candidate
 *     that was itself invalid
 * @param sample the invalid sample's index
 * @param file where it lives (file path, or a source name)
 * @param offset its record's byte offset in {@code file}, or -1
 * @param reason the {@link io.vitfleet.feeder.source.SampleStatus} name
 * @param detail what exactly is wrong
 * @param substitute the sample delivered at {@code position} instead
 */
public record LedgerEntry(long step, long position, int draw, long sample, String file, long offset, String reason,
    String detail, long substitute) {

  /** The column names of the ledger file, in order. */
  static final String COLUMNS = "step\tposition\tdraw\tsample\tsubstitute\treason\tfile\toffset\tdetail";

  /** One tab-separated line (no newline); tabs and line breaks inside text fields become spaces. */
  String toLine() {
    return step + "\t" + position + "\t" + draw + "\t" + sample + "\t" + substitute + "\t" + clean(reason) + "\t"
        + clean(file) + "\t" + offset + "\t" + clean(detail);
  }

  /** The inverse of {@link #toLine}; throws IllegalArgumentException for a malformed line. */
  static LedgerEntry parse(String line) {
    String[] f = line.split("\t", -1);
    if (f.length != 9) {
      throw new IllegalArgumentException("expected 9 tab-separated fields, found " + f.length);
    }
    return new LedgerEntry(Long.parseLong(f[0]), Long.parseLong(f[1]), Integer.parseInt(f[2]), Long.parseLong(f[3]),
        f[6], Long.parseLong(f[7]), f[5], f[8], Long.parseLong(f[4]));
  }

  private static String clean(String text) {
    return text == null ? "" : text.replace('\t', ' ').replace('\n', ' ').replace('\r', ' ');
  }

  @Override
  public String toString() {
    return "step " + step + " position " + position + (draw > 0 ? " (substitute draw " + draw + ")" : "")
        + ": sample " + sample + " " + reason + " in " + file + (offset >= 0 ? " at offset " + offset : "") + ": "
        + detail + "; delivered sample " + substitute + " instead";
  }
}
