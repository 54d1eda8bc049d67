package io.vitfleet.feeder.tfrecord;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vitfleet.feeder.DatasetException;
import io.vitfleet.feeder.source.ImageShape;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What a data set folder holds, per split: the file {@value #FILE_NAME} beside the shards, written by the importer.
 * It is the source of truth for the number of samples (N, which fixes the epoch order, so it must not change when a
 * shard is damaged or missing), the classes and the shards in index order. Layout:
 *
 * <pre>
 * {
 *   "format": "vitfleet-tfrecord-dataset", "version": 1,
 *   "splits": {
 *     "train": {
 *       "name": "fashion_mnist",                       // the data set name in the shard file names
 *       "examples": 60000,                             // N: the sum of the shards' records
 *       "classes": ["T-shirt/top", ...],               // label i is classes[i]
 *       "class_counts": [6000, ...],                   // samples per class
 *       "image": {"height": 28, "width": 28, "channels": 1},   // or null when images differ in shape
 *       "encoding": "png",                             // png, jpeg or mixed
 *       "shards": [{"file": "fashion_mnist-train.tfrecord-00000-of-00004", "records": 15000, "bytes": 1234567}, ...]
 *     }
 *   }
 * }
 * </pre>
 */
public final class DatasetMetadata {
  public static final String FILE_NAME = "vitfleet-dataset.json";
  static final String FORMAT = "vitfleet-tfrecord-dataset";
  static final int VERSION = 1;
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** One shard of a split: a file name in the data set folder, its record count and byte size. */
  public record Shard(String file, long records, long bytes) {}

  /** One split of the data set. */
  public record Split(String name, String split, long examples, List<String> classes, List<Long> classCounts,
      ImageShape image, String encoding, List<Shard> shards) {
    public Split {
      classes = List.copyOf(classes);
      classCounts = List.copyOf(classCounts);
      shards = List.copyOf(shards);
    }
  }

  private final Map<String, Split> splits;

  private DatasetMetadata(Map<String, Split> splits) {
    this.splits = Collections.unmodifiableMap(new TreeMap<>(splits));
  }

  /** No splits yet. */
  public static DatasetMetadata empty() {
    return new DatasetMetadata(Map.of());
  }

  /** The splits by name. */
  public Map<String, Split> splits() {
    return splits;
  }

  /** This metadata with {@code split} added or replaced. */
  public DatasetMetadata with(Split split) {
    Map<String, Split> copy = new TreeMap<>(splits);
    copy.put(split.split(), split);
    return new DatasetMetadata(copy);
  }

  /** This metadata without split {@code split}. */
  public DatasetMetadata without(String split) {
    Map<String, Split> copy = new TreeMap<>(splits);
    copy.remove(split);
    return new DatasetMetadata(copy);
  }

  /**
   * The metadata of the data set in {@code dir}, or empty if it has no {@value #FILE_NAME}.
   *
   * @throws DatasetException if the file exists but is not valid metadata
   */
  public static Optional<DatasetMetadata> read(Path dir) {
    Path file = dir.resolve(FILE_NAME);
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    try {
      return Optional.of(parse(JSON.readTree(file.toFile())));
    } catch (JsonProcessingException | IllegalArgumentException | NullPointerException e) {
      throw new DatasetException(file, file + " is not valid data set metadata (" + firstLine(e.getMessage())
          + "); fix it or re-import the data set", e);
    } catch (IOException e) {
      throw new DatasetException(file, "cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  private static DatasetMetadata parse(JsonNode root) {
    if (!FORMAT.equals(text(root, "format")) || root.path("version").asInt() != VERSION) {
      throw new IllegalArgumentException("expected \"format\": \"" + FORMAT + "\" and \"version\": " + VERSION);
    }
    Map<String, Split> splits = new TreeMap<>();
    JsonNode all = required(root, "splits");
    for (Iterator<String> it = all.fieldNames(); it.hasNext(); ) {
      String name = it.next();
      splits.put(name, parseSplit(name, all.get(name)));
    }
    return new DatasetMetadata(splits);
  }

  private static Split parseSplit(String split, JsonNode node) {
    ShardName.requireValidSplit(split);
    String name = text(node, "name");
    ShardName.requireValidDataset(name);
    List<String> classes = new ArrayList<>();
    required(node, "classes").forEach(c -> classes.add(c.asText()));
    if (classes.isEmpty()) {
      throw new IllegalArgumentException("split " + split + " has no classes");
    }
    List<Long> counts = new ArrayList<>();
    node.path("class_counts").forEach(c -> counts.add(c.asLong()));
    if (!counts.isEmpty() && counts.size() != classes.size()) {
      throw new IllegalArgumentException("split " + split + " has " + classes.size() + " classes but "
          + counts.size() + " class counts");
    }
    JsonNode image = node.path("image");
    ImageShape shape = image.isObject() ? new ImageShape(image.path("height").asInt(), image.path("width").asInt(),
        image.path("channels").asInt()) : null;
    List<Shard> shards = new ArrayList<>();
    long total = 0;
    for (JsonNode s : required(node, "shards")) {
      String file = text(s, "file");
      if (file.isEmpty() || file.contains("/") || file.contains("\\") || file.startsWith(".")) {
        throw new IllegalArgumentException("shard file '" + file + "' must be a plain file name in the data set"
            + " folder");
      }
      long records = required(s, "records").asLong(-1);
      if (records < 0) {
        throw new IllegalArgumentException("shard " + file + " has a negative record count");
      }
      total += records;
      shards.add(new Shard(file, records, s.path("bytes").asLong(-1)));
    }
    long examples = required(node, "examples").asLong(-1);
    if (shards.isEmpty() || examples != total) {
      throw new IllegalArgumentException("split " + split + " says " + examples + " examples but its "
          + shards.size() + " shards hold " + total);
    }
    return new Split(name, split, examples, classes, counts, shape, node.path("encoding").asText("mixed"), shards);
  }

  /** Writes {@value #FILE_NAME} into {@code dir} (a temp file then a rename, so readers never see half of it). */
  public void write(Path dir) throws IOException {
    ObjectNode root = JSON.createObjectNode();
    root.put("format", FORMAT);
    root.put("version", VERSION);
    ObjectNode all = root.putObject("splits");
    for (Split s : splits.values()) {
      ObjectNode node = all.putObject(s.split());
      node.put("name", s.name());
      node.put("examples", s.examples());
      ArrayNode classes = node.putArray("classes");
      s.classes().forEach(classes::add);
      ArrayNode counts = node.putArray("class_counts");
      s.classCounts().forEach(counts::add);
      if (s.image() == null) {
        node.putNull("image");
      } else {
        node.putObject("image").put("height", s.image().height()).put("width", s.image().width())
            .put("channels", s.image().channels());
      }
      node.put("encoding", s.encoding());
      ArrayNode shards = node.putArray("shards");
      for (Shard shard : s.shards()) {
        shards.addObject().put("file", shard.file()).put("records", shard.records()).put("bytes", shard.bytes());
      }
    }
    Path file = dir.resolve(FILE_NAME);
    Path tmp = dir.resolve(FILE_NAME + ".tmp");
    JSON.writeValue(tmp.toFile(), root);
    try {
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  private static JsonNode required(JsonNode node, String field) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      throw new IllegalArgumentException("missing \"" + field + "\"");
    }
    return value;
  }

  private static String text(JsonNode node, String field) {
    return required(node, field).asText();
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "no detail";
    }
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }
}
