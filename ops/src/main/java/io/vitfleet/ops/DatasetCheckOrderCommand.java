package io.vitfleet.ops;

import io.vitfleet.feeder.EpochOrder;
import io.vitfleet.feeder.order.OrderCheck;
import io.vitfleet.feeder.order.ShardedEpochOrder;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code vitfleet dataset check-order}: checks that one epoch of the feeder's order ({@link ShardedEpochOrder}) over N
 * samples visits every sample exactly once — exhaustively against a bitset when N is small enough, otherwise on
 * random ranges of positions plus inverse round trips — and reports duplicates and missing samples.
 */
@Command(name = "check-order", mixinStandardHelpOptions = true,
    description = {"Checks that one epoch of the sharded epoch order visits each of N samples exactly once.",
        "N <= --full-max: every position, against a bitset of N bits (N/8 bytes of heap, ~100 ns per position per "
            + "thread).",
        "Larger N: --sample positions in --ranges random ranges must give distinct samples that map back to their "
            + "positions, and as many random samples must map to a position and back.",
        "Exit code 0 when exactly once, 1 when duplicates or missing samples were found."})
final class DatasetCheckOrderCommand implements Callable<Integer> {
  /** Shards when --shards is not given (or N, if smaller): enough to exercise the shard order and the windows. */
  static final int DEFAULT_SHARDS = 1024;

  @Option(names = "--n", paramLabel = "N", required = true, description = "Samples in the data set (1..2^62).")
  long n;

  @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Data-order seed (default: "
      + "${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--epoch", paramLabel = "E", defaultValue = "0", description = "Epoch to check (default: "
      + "${DEFAULT-VALUE}).")
  long epoch;

  @Option(names = "--shards", paramLabel = "K", description = "Shards of equal size the samples are split into "
      + "(default: " + DEFAULT_SHARDS + ", or N if smaller).")
  Integer shards;

  @Option(names = "--window", paramLabel = "W", defaultValue = "16", description = "Shards shuffled together "
      + "(default: ${DEFAULT-VALUE}).")
  int window;

  @Option(names = "--mode", paramLabel = "auto|full|sampled", defaultValue = "auto", description = "auto: full when "
      + "N <= --full-max, else sampled (default: ${DEFAULT-VALUE}).")
  String mode;

  @Option(names = "--full-max", paramLabel = "N", defaultValue = "2147483648", description = "Largest N checked in "
      + "full by --mode auto (default: ${DEFAULT-VALUE} = 2^31, 256 MiB of bitset).")
  long fullMax;

  @Option(names = "--sample", paramLabel = "M", defaultValue = "4194304", description = "Sampled mode: positions "
      + "checked, and random samples round-tripped (default: ${DEFAULT-VALUE}).")
  long sample;

  @Option(names = "--ranges", paramLabel = "R", defaultValue = "16", description = "Sampled mode: the positions "
      + "form R ranges, one in each R-th of the epoch (default: ${DEFAULT-VALUE}).")
  int ranges;

  @Option(names = "--random", paramLabel = "S", defaultValue = "1", description = "Sampled mode: seed of the choice "
      + "of ranges and samples (default: ${DEFAULT-VALUE}).")
  long random;

  @Option(names = "--threads", paramLabel = "T", description = "Threads (default: the available processors).")
  Integer threads;

  @Option(names = "--json", paramLabel = "FILE", description = "Also write the result as JSON to FILE.")
  Path json;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    if (n < 1 || n > EpochOrder.MAX_SIZE) {
      throw new UserError("--n must be in 1.." + EpochOrder.MAX_SIZE + " (2^62), not " + n);
    }
    int k = shards != null ? shards : (int) Math.min(DEFAULT_SHARDS, n);
    if (k < 1 || k > n || k > ShardedEpochOrder.MAX_SHARDS) {
      throw new UserError("--shards must be in 1.." + Math.min(n, ShardedEpochOrder.MAX_SHARDS) + " (at most N and "
          + "2^24), not " + k);
    }
    if (window < 1) {
      throw new UserError("--window must be at least 1 shard, not " + window);
    }
    if (epoch < 0) {
      throw new UserError("--epoch must be non-negative, not " + epoch);
    }
    int t = threads != null ? threads : Runtime.getRuntime().availableProcessors();
    if (t < 1) {
      throw new UserError("--threads must be at least 1, not " + t);
    }
    boolean full = switch (mode.toLowerCase(Locale.ROOT)) {
      case "auto" -> n <= fullMax;
      case "full" -> true;
      case "sampled" -> false;
      default -> throw new UserError("--mode must be auto, full or sampled, not '" + mode + "'");
    };
    if (full && n > (long) Integer.MAX_VALUE * Long.SIZE) {
      throw new UserError("a full check of N = " + n + " needs a bitset of " + n / 8 + " bytes, beyond a Java array;"
          + " use --mode sampled");
    }
    if (!full && (sample < 1 || sample > Integer.MAX_VALUE - 8)) {
      throw new UserError("--sample must be in 1.." + (Integer.MAX_VALUE - 8) + ", not " + sample);
    }
    if (!full && (ranges < 1 || ranges > sample)) {
      throw new UserError("--ranges must be in 1..--sample (" + sample + "), not " + ranges);
    }
    ShardedEpochOrder order = ShardedEpochOrder.uniform(n, k, window);
    OrderCheck.Result r = full ? OrderCheck.full(order, seed, epoch, t)
        : OrderCheck.sampled(order, seed, epoch, sample, ranges, random, t);

    Map<String, Object> out = new LinkedHashMap<>();
    out.put("n", r.n());
    out.put("mode", r.mode());
    out.put("checked", r.checked());
    out.put("duplicates", r.duplicates());
    out.put("missing", r.missing());
    out.put("exactly_once", r.exactlyOnce());
    out.put("inverse_checked", r.inverseChecked());
    out.put("seed", seed);
    out.put("epoch", epoch);
    out.put("shards", order.shards());
    out.put("window", order.window());
    out.put("threads", t);
    out.put("seconds", r.seconds());
    out.put("meaning", full
        ? "every position of the epoch checked against a bitset of N bits; missing = samples no position gives"
        : "checked = positions in " + Math.min(ranges, Math.min(sample, n)) + " random ranges (distinct samples,"
            + " each mapping back to its position) and as many random samples mapping to a position and back;"
            + " duplicates = equal samples or positions not mapping back, missing = samples not mapping back");
    PrintWriter w = spec.commandLine().getOut();
    for (Map.Entry<String, Object> e : out.entrySet()) {
      w.printf(Locale.ROOT, "%-16s %s%n", e.getKey(), e.getValue() instanceof Double d
          ? String.format(Locale.ROOT, "%.3f", d) : e.getValue());
    }
    w.flush();
    if (json != null) {
      JsonOutput.write(json, out);
    }
    return r.exactlyOnce() ? 0 : VitfleetCli.EXIT_FAILURE;
  }
}
