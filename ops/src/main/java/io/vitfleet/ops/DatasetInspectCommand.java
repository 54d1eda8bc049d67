package io.vitfleet.ops;

import io.vitfleet.feeder.ledger.ImageValidator;
import io.vitfleet.feeder.ledger.SampleLedger;
import io.vitfleet.feeder.ledger.ValidSampleReader;
import io.vitfleet.feeder.source.SampleRead;
import io.vitfleet.feeder.source.SampleStatus;
import io.vitfleet.feeder.tfrecord.DatasetMetadata;
import io.vitfleet.feeder.tfrecord.TfRecordDataset;
import io.vitfleet.feeder.tfrecord.TfRecordFile;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import javax.imageio.ImageIO;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code vitfleet dataset inspect}: what a TFRecord data set folder holds, per split: samples, classes with their
 * counts, shards with their records, and optionally a few samples decoded and saved as PNG, or every record read and
 * checked ({@code --verify}). A shard that is missing or not a TFRecord file is an error; an index that disagrees
 * with its data file is rebuilt with a warning.
 */
@Command(name = "inspect", mixinStandardHelpOptions = true,
    description = {"Reports a TFRecord data set folder: samples, classes (with counts), shards (with records).",
        "Class counts come from vitfleet-dataset.json; --verify (implied without it) reads and checks every record.",
        "--samples K --out PNGDIR saves K samples spread over each split, decoded, as PNG files."})
final class DatasetInspectCommand implements Callable<Integer> {
  /** Invalid samples listed one by one; beyond this only counted. */
  static final int LISTED_INVALID = 10;
  /** Samples saved when --out is given without --samples. */
  static final int DEFAULT_SAMPLES = 8;

  @Parameters(index = "0", paramLabel = "DIR", description = "The data set folder.")
  Path dir;

  @Option(names = "--split", paramLabel = "SPLIT", description = "Only this split (default: every split).")
  String split;

  @Option(names = "--samples", paramLabel = "K",
      description = "Samples per split to decode and save as PNG into --out (default: " + DEFAULT_SAMPLES
          + " when --out is given).")
  Integer samples;

  @Option(names = "--out", paramLabel = "PNGDIR", description = "Folder for the saved samples.")
  Path out;

  @Option(names = "--verify", description = "Read every record and check its CRCs, Example, label and image.")
  boolean verify;

  @Option(names = "--json", paramLabel = "FILE", description = "Also write the report as JSON to FILE.")
  Path json;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    if (samples != null && samples < 0) {
      throw new UserError("--samples must be at least 0, not " + samples);
    }
    if (samples != null && samples > 0 && out == null) {
      throw new UserError("--samples needs --out PNGDIR: the folder to save the decoded samples in");
    }
    int saveCount = out == null ? 0 : samples == null ? DEFAULT_SAMPLES : samples;
    PrintWriter o = spec.commandLine().getOut();
    Consumer<String> warnings = this::warn;
    Set<String> splits = split != null ? Set.of(split) : TfRecordDataset.splits(dir);
    if (splits.isEmpty()) {
      TfRecordDataset.open(dir, null, warnings).close(); // throws the message for an empty or shard-less folder
    }
    DatasetMetadata metadata = DatasetMetadata.read(dir).orElse(null);
    Map<String, Object> report = new LinkedHashMap<>();
    report.put("dataset", dir.toString());
    Map<String, Object> splitReports = new LinkedHashMap<>();
    long total = 0;
    for (String s : splits) {
      try (TfRecordDataset data = TfRecordDataset.open(dir, s, warnings)) {
        DatasetMetadata.Split described = metadata == null ? null : metadata.splits().get(s);
        Map<String, Object> r = inspect(data, described, saveCount, o);
        splitReports.put(s, r);
        total += data.size();
      }
    }
    report.put("samples", total);
    report.put("splits", splitReports);
    o.flush();
    if (json != null) {
      JsonOutput.write(json, report);
    }
    return 0;
  }

  private Map<String, Object> inspect(TfRecordDataset data, DatasetMetadata.Split described, int saveCount,
      PrintWriter o) throws IOException {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("name", data.name());
    r.put("samples", data.size());
    r.put("classes", data.classes());
    r.put("image", data.imageShape() == null ? null : Map.of("height", data.imageShape().height(),
        "width", data.imageShape().width(), "channels", data.imageShape().channels()));
    r.put("encoding", described == null ? "unknown" : described.encoding());
    o.printf(Locale.ROOT, "%s, split %s: %,d samples, %d classes, images %s, %s (data set %s)%n", data.dir(),
        data.split(), data.size(), data.classes(), data.imageShape() == null ? "of mixed shapes" : data.imageShape(),
        r.get("encoding"), data.name());

    List<Map<String, Object>> shards = new ArrayList<>();
    long[] expected = data.shardSizes();
    o.printf(Locale.ROOT, "  shards (%d):%n", expected.length);
    for (int k = 0; k < expected.length; k++) {
      TfRecordFile file = data.shard(k); // throws for a missing shard or one that is not TFRecord
      long records = Math.min(file.records(), expected[k]);
      Map<String, Object> shard = new LinkedHashMap<>();
      shard.put("file", file.path().getFileName().toString());
      shard.put("records", records);
      shard.put("expected_records", expected[k]);
      shard.put("bytes", file.size());
      shards.add(shard);
      o.printf(Locale.ROOT, "    %s  %,d records  %,d bytes%n", file.path().getFileName(), records, file.size());
      if (records < expected[k]) {
        warn(file.path() + " holds " + records + " readable records of the " + expected[k] + " the metadata lists ("
            + file.tailDetail() + ")");
      }
    }
    r.put("shards", shards);

    boolean scan = verify || described == null || described.classCounts().size() != data.classes();
    long[] classCounts = new long[data.classes()];
    if (scan) {
      r.putAll(verifyAll(data, classCounts, o));
    } else {
      for (int c = 0; c < classCounts.length; c++) {
        classCounts[c] = described.classCounts().get(c);
      }
    }
    List<Map<String, Object>> classes = new ArrayList<>();
    o.printf(Locale.ROOT, "  classes (%d)%s:%n", data.classes(), scan ? ", counted from the records"
        : ", counts from " + DatasetMetadata.FILE_NAME);
    for (int c = 0; c < classCounts.length; c++) {
      classes.add(Map.of("label", c, "name", data.classNames().get(c), "count", classCounts[c]));
      o.printf(Locale.ROOT, "    %4d  %-24s %,d%n", c, data.classNames().get(c), classCounts[c]);
    }
    r.put("class_counts", classes);
    if (saveCount > 0) {
      r.put("saved", saveSamples(data, saveCount, o));
    }
    return r;
  }

  /** Reads every sample; fills the class counts of the valid ones and reports the invalid ones. */
  private Map<String, Object> verifyAll(TfRecordDataset data, long[] classCounts, PrintWriter o) {
    ValidSampleReader checker = new ValidSampleReader(data, ImageValidator.structural(), 0, SampleLedger.inMemory());
    Map<SampleStatus, Long> reasons = new EnumMap<>(SampleStatus.class);
    List<Map<String, Object>> listed = new ArrayList<>();
    long invalid = 0;
    for (long i = 0; i < data.size(); i++) {
      SampleRead read = checker.checked(data.read(i));
      if (read.isValid()) {
        classCounts[read.label()]++;
        continue;
      }
      invalid++;
      reasons.merge(read.status(), 1L, Long::sum);
      if (listed.size() < LISTED_INVALID) {
        listed.add(Map.of("index", i, "reason", read.status().name(), "file", read.file(), "offset", read.offset(),
            "detail", read.detail()));
        o.printf(Locale.ROOT, "  invalid sample %d: %s in %s: %s%n", i, read.status(), read.where(), read.detail());
      }
    }
    if (invalid > LISTED_INVALID) {
      o.printf(Locale.ROOT, "  ... and %,d more invalid samples%n", invalid - LISTED_INVALID);
    }
    o.printf(Locale.ROOT, "  verified: %,d of %,d samples valid%n", data.size() - invalid, data.size());
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("verified", true);
    r.put("invalid", invalid);
    Map<String, Long> byReason = new LinkedHashMap<>();
    reasons.forEach((k, v) -> byReason.put(k.name(), v));
    r.put("invalid_by_reason", byReason);
    r.put("invalid_samples", listed);
    return r;
  }

  /** Saves {@code count} samples spread evenly over the split as PNG files; returns what was saved. */
  private List<Map<String, Object>> saveSamples(TfRecordDataset data, int count, PrintWriter o) throws IOException {
    Files.createDirectories(out);
    List<Map<String, Object>> saved = new ArrayList<>();
    long n = data.size();
    long previous = -1;
    for (int k = 0; k < count; k++) {
      long index = (long) ((double) k * n / count);
      if (index == previous) {
        continue; // fewer samples than requested
      }
      previous = index;
      SampleRead read = data.read(index);
      if (!read.isValid()) {
        warn("sample " + index + " not saved: " + read.status() + " in " + read.where() + ": " + read.detail());
        continue;
      }
      BufferedImage image = ImageIO.read(new ByteArrayInputStream(read.image()));
      if (image == null) {
        warn("sample " + index + " not saved: the JDK cannot decode its " + read.format().label() + " image");
        continue;
      }
      String className = data.classNames().get(read.label()).replaceAll("[^A-Za-z0-9_.-]", "_");
      Path file = out.resolve(String.format(Locale.ROOT, "%s-%s-%09d-label%d-%s.png", data.name(), data.split(),
          index, read.label(), className));
      if (!ImageIO.write(image, "png", file.toFile())) {
        throw new IllegalStateException("this JVM has no PNG encoder (javax.imageio)");
      }
      saved.add(Map.of("index", index, "label", read.label(), "file", file.toString()));
    }
    o.printf(Locale.ROOT, "  saved %d sample(s) as PNG in %s%n", saved.size(), out);
    return saved;
  }

  private void warn(String message) {
    PrintWriter err = spec.commandLine().getErr();
    err.println("vitfleet: warning: " + message);
    err.flush();
  }
}
