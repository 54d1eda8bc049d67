package io.vitfleet.ops;

import static io.vitfleet.ops.CliRun.vitfleet;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.vitfleet.feeder.source.SampleRead;
import io.vitfleet.feeder.tfrecord.DatasetMetadata;
import io.vitfleet.feeder.tfrecord.RecordIndex;
import io.vitfleet.feeder.tfrecord.TfRecordDataset;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetCommandTest {
  private static final int TRAIN = 30;
  private static final int TEST = 10;

  @TempDir
  Path tmp;



  /** Asserts bad input: exit 2 and exactly one line on stderr, the error, starting with {@code start}. */
  private static void assertOneLineError(CliRun r, String start) {
    assertEquals(VitfleetCli.EXIT_USAGE, r.code(), r.err());
    String[] lines = r.err().strip().split("\n");
    assertEquals(1, lines.length, "one line, no stack trace: " + r.err());
    assertTrue(lines[0].startsWith("vitfleet: error: " + start), lines[0]);
  }

  // ---- fixtures ---------------------------------------------------------------------------------------------------

  /** Pixel p of image i of the IDX fixture. */
  private static int pixel(int i, int p) {
    return (i * 7 + p * 3) & 0xff;
  }

  private static int label(int i) {
    return (i * 3) % 10;
  }

  /** Fashion-MNIST-shaped IDX files (28x28, labels 0..9), gzip-compressed as the Debian package installs them. */
  private Path idxFolder() throws IOException {
    Path dir = tmp.resolve("idx");
    Files.createDirectories(dir);
    writeIdx(dir, "train", TRAIN);
    writeIdx(dir, "t10k", TEST);
    return dir;
  }

  private static void writeIdx(Path dir, String prefix, int n) throws IOException {
    ByteBuffer images = ByteBuffer.allocate(16 + n * 784).putInt(0x803).putInt(n).putInt(28).putInt(28);
    ByteBuffer labels = ByteBuffer.allocate(8 + n).putInt(0x801).putInt(n);
    for (int i = 0; i < n; i++) {
      for (int p = 0; p < 784; p++) {
        images.put((byte) pixel(i, p));
      }
      labels.put((byte) label(i));
    }
    gzip(dir.resolve(prefix + "-images-idx3-ubyte.gz"), images.array());
    gzip(dir.resolve(prefix + "-labels-idx1-ubyte.gz"), labels.array());
  }

  private static void gzip(Path file, byte[] bytes) throws IOException {
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
      out.write(bytes);
    }
  }

  private static byte[] encode(String format, int seed) throws IOException {
    BufferedImage image = new BufferedImage(12, 9, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 9; y++) {
      for (int x = 0; x < 12; x++) {
        image.setRGB(x, y, (seed * 40 + x * 20) << 16 | (y * 25) << 8 | seed);
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(image, format, out);
    return out.toByteArray();
  }

  /** cat: 3 PNGs, dog: 2 JPEGs, zebra: 1 PNG, plus a README at the top. */
  private Path imageFolder() throws IOException {
    Path dir = tmp.resolve("animals");
    for (String c : List.of("cat", "dog", "zebra")) {
      Files.createDirectories(dir.resolve(c));
    }
    for (int i = 0; i < 3; i++) {
      Files.write(dir.resolve("cat").resolve("c" + i + ".png"), encode("png", i));
    }
    for (int i = 0; i < 2; i++) {
      Files.write(dir.resolve("dog").resolve("d" + i + ".jpg"), encode("jpeg", 10 + i));
    }
    Files.write(dir.resolve("zebra").resolve("z.png"), encode("png", 20));
    Files.writeString(dir.resolve("README.txt"), "animals");
    return dir;
  }

  private Path importIdx(String... extra) throws IOException {
    Path out = tmp.resolve("fm");
    List<Object> args = new ArrayList<>(List.of("dataset", "import", "--from", "idx", idxFolder(), "--out", out,
        "--shards", "3"));
    args.addAll(List.of(extra));
    CliRun r = vitfleet(args.toArray());
    assertEquals(0, r.code(), r.err());
    return out;
  }

  private static Path shard(Path dir, int k, int of) {
    return dir.resolve(String.format("fashion_mnist-train.tfrecord-%05d-of-%05d", k, of));
  }

  // ---- import and inspect -----------------------------------------------------------------------------------------

  @Test
  void shouldImportIdxAsPngShardsWithIndexesAndMetadataThatInspectReports() throws IOException {
    Path out = importIdx();
    for (int k = 0; k < 3; k++) {
      assertTrue(Files.isRegularFile(shard(out, k, 3)));
      assertTrue(Files.isRegularFile(RecordIndex.pathOf(shard(out, k, 3))));
    }
    assertTrue(Files.isRegularFile(out.resolve(DatasetMetadata.FILE_NAME)));

    Path json = tmp.resolve("inspect.json");
    CliRun r = vitfleet("dataset", "inspect", out, "--json", json);
    assertEquals(0, r.code(), r.err());
    assertEquals("", r.err());
    assertTrue(r.out().contains("split train: 30 samples, 10 classes, images 28x28x1, png"), r.out());
    JsonNode j = JsonOutput.mapper().readTree(json.toFile());
    assertEquals(TRAIN, j.get("samples").asInt());
    JsonNode train = j.get("splits").get("train");
    assertEquals(10, train.get("classes").asInt());
    assertEquals("png", train.get("encoding").asText());
    for (int k = 0; k < 3; k++) {
      assertEquals(10, train.get("shards").get(k).get("records").asInt());
    }
    int[] expected = new int[10];
    for (int i = 0; i < TRAIN; i++) {
      expected[label(i)]++;
    }
    for (int c = 0; c < 10; c++) {
      JsonNode count = train.get("class_counts").get(c);
      assertEquals(expected[c], count.get("count").asInt(), "class " + c);
    }
    assertEquals("T-shirt/top", train.get("class_counts").get(0).get("name").asText());
  }

  @Test
  void shouldSaveDecodedSamplesAsPngWithTheOriginalPixels() throws IOException {
    Path out = importIdx();
    Path pngs = tmp.resolve("pngs");
    Path json = tmp.resolve("inspect.json");
    CliRun r = vitfleet("dataset", "inspect", out, "--samples", "3", "--out", pngs, "--json", json);
    assertEquals(0, r.code(), r.err());
    JsonNode saved = JsonOutput.mapper().readTree(json.toFile()).get("splits").get("train").get("saved");
    assertEquals(3, saved.size());
    for (JsonNode s : saved) {
      int index = s.get("index").asInt();
      BufferedImage image = ImageIO.read(Path.of(s.get("file").asText()).toFile());
      assertEquals(28, image.getWidth());
      int[] got = image.getRaster().getPixels(0, 0, 28, 28, (int[]) null);
      for (int p = 0; p < 784; p += 37) {
        assertEquals(pixel(index, p), got[p], "sample " + index + " pixel " + p);
      }
      assertEquals(label(index), s.get("label").asInt());
    }
  }

  @Test
  void shouldImportIdxAsJpegAndTheTestSplitBesideIt() throws IOException {
    Path out = importIdx("--format", "jpeg");
    CliRun r = vitfleet("dataset", "import", "--from", "idx", tmp.resolve("idx"), "--out", out, "--split", "test",
        "--shards", "1");
    assertEquals(0, r.code(), r.err());
    Path json = tmp.resolve("inspect.json");
    r = vitfleet("dataset", "inspect", out, "--verify", "--json", json);
    assertEquals(0, r.code(), r.err());
    JsonNode j = JsonOutput.mapper().readTree(json.toFile());
    assertEquals(TRAIN + TEST, j.get("samples").asInt());
    assertEquals("jpeg", j.get("splits").get("train").get("encoding").asText());
    assertEquals("png", j.get("splits").get("test").get("encoding").asText());
    assertEquals(0, j.get("splits").get("train").get("invalid").asInt());
    assertEquals(TEST, j.get("splits").get("test").get("samples").asInt());
  }

  @Test
  void shouldImportAFolderLabellingClassesBySortedSubfolderAndCopyingImagesAsTheyAre() throws IOException {
    Path animals = imageFolder();
    Path out = tmp.resolve("zoo");
    CliRun r = vitfleet("dataset", "import", "--from", "folder", animals, "--out", out, "--shards", "2");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.err().contains("vitfleet: warning: ignored 1 file(s) at the top of " + animals), r.err());
    assertTrue(r.out().contains("imported 6 samples of 3 classes"), r.out());

    Path json = tmp.resolve("zoo.json");
    r = vitfleet("dataset", "inspect", out, "--json", json);
    assertEquals(0, r.code(), r.err());
    JsonNode train = JsonOutput.mapper().readTree(json.toFile()).get("splits").get("train");
    assertEquals("animals", train.get("name").asText());
    assertEquals("mixed", train.get("encoding").asText());
    List<String> names = new ArrayList<>();
    List<Integer> counts = new ArrayList<>();
    train.get("class_counts").forEach(c -> {
      names.add(c.get("name").asText());
      counts.add(c.get("count").asInt());
    });
    assertEquals(List.of("cat", "dog", "zebra"), names);
    assertEquals(List.of(3, 2, 1), counts);

    Set<String> stored = new HashSet<>();
    try (TfRecordDataset data = TfRecordDataset.open(out, "train")) {
      for (long i = 0; i < data.size(); i++) {
        SampleRead read = data.read(i);
        stored.add(read.label() + ":" + HexFormat.of().formatHex(read.image()));
      }
    }
    Set<String> originals = new HashSet<>();
    String[] classes = {"cat", "dog", "zebra"};
    for (int c = 0; c < 3; c++) {
      try (Stream<Path> files = Files.list(animals.resolve(classes[c]))) {
        for (Path f : files.toList()) {
          originals.add(c + ":" + HexFormat.of().formatHex(Files.readAllBytes(f)));
        }
      }
    }
    assertEquals(originals, stored);
  }

  @Test
  void shouldReportADamagedRecordWithItsFileAndOffsetWhenVerifying() throws IOException {
    Path out = importIdx();
    Path damaged = shard(out, 1, 3);
    try (RandomAccessFile raf = new RandomAccessFile(damaged.toFile(), "rw")) {
      raf.seek(40);
      int b = raf.read();
      raf.seek(40);
      raf.write(b ^ 1);
    }
    Path json = tmp.resolve("inspect.json");
    CliRun r = vitfleet("dataset", "inspect", out, "--verify", "--json", json);
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("invalid sample 10: BAD_DATA_CRC in " + damaged + " at offset 0"), r.out());
    assertTrue(r.out().contains("verified: 29 of 30 samples valid"), r.out());
    JsonNode train = JsonOutput.mapper().readTree(json.toFile()).get("splits").get("train");
    assertEquals(1, train.get("invalid").asInt());
    assertEquals(1, train.get("invalid_by_reason").get("BAD_DATA_CRC").asInt());
    assertEquals(damaged.toString(), train.get("invalid_samples").get(0).get("file").asText());
  }

  // ---- bad input --------------------------------------------------------------------------------------------------

  @Test
  void shouldRefuseToImportFromAPathThatDoesNotExistInOneLine() {
    Path absent = tmp.resolve("absent");
    assertOneLineError(vitfleet("dataset", "import", "--from", "folder", absent, "--out", tmp.resolve("o")),
        "image folder not found: " + absent);
    assertOneLineError(vitfleet("dataset", "import", "--from", "idx", absent, "--out", tmp.resolve("o")),
        "IDX folder not found: " + absent);
  }

  @Test
  void shouldRefuseToInspectAPathThatDoesNotExistInOneLine() {
    Path absent = tmp.resolve("absent");
    assertOneLineError(vitfleet("dataset", "inspect", absent), "data set folder not found: " + absent);
  }

  @Test
  void shouldRefuseToImportAnEmptyFolderInOneLine() throws IOException {
    Path empty = Files.createDirectories(tmp.resolve("empty"));
    assertOneLineError(vitfleet("dataset", "import", "--from", "folder", empty, "--out", tmp.resolve("o")),
        "image folder " + empty + " is empty");
  }

  @Test
  void shouldRefuseToInspectAnEmptyFolderInOneLine() throws IOException {
    Path empty = Files.createDirectories(tmp.resolve("empty"));
    assertOneLineError(vitfleet("dataset", "inspect", empty), empty + " is empty");
  }

  @Test
  void shouldRefuseAClassFolderWithNoImagesInOneLine() throws IOException {
    Path animals = imageFolder();
    Path hollow = Files.createDirectories(animals.resolve("yak"));
    Files.writeString(hollow.resolve(".DS_Store"), "hidden files do not count");
    assertOneLineError(vitfleet("dataset", "import", "--from", "folder", animals, "--out", tmp.resolve("o")),
        "class folder " + hollow + " has no images");
  }

  @Test
  void shouldRefuseAFileThatIsNotAnImageInOneLine() throws IOException {
    Path animals = imageFolder();
    Path notes = animals.resolve("dog").resolve("notes.txt");
    Files.writeString(notes, "good dogs");
    assertOneLineError(vitfleet("dataset", "import", "--from", "folder", animals, "--out", tmp.resolve("o")),
        notes + " is not a JPEG or PNG image");
  }

  @Test
  void shouldRefuseAShardThatIsNotATfRecordFileInOneLine() throws IOException {
    Path out = importIdx();
    Path fake = shard(out, 2, 3);
    Files.writeString(fake, "<html>this download went wrong</html>");
    assertOneLineError(vitfleet("dataset", "inspect", out), fake + " is not a TFRecord file: record 0 at offset 0");
  }

  @Test
  void shouldRebuildAnIndexThatDisagreesWithItsDataWithAWarning() throws IOException {
    Path out = importIdx();
    Path index = RecordIndex.pathOf(shard(out, 0, 3));
    byte[] bytes = Files.readAllBytes(index);
    Files.write(index, Arrays.copyOf(bytes, bytes.length - 8));
    CliRun r = vitfleet("dataset", "inspect", out);
    assertEquals(0, r.code(), r.err());
    assertTrue(r.err().startsWith("vitfleet: warning: index " + index + " disagrees with its data file"), r.err());
    assertTrue(r.err().contains("rebuilt it from the data file"), r.err());
    assertTrue(r.out().contains("10 records"), r.out());
    assertArrayEquals(bytes, Files.readAllBytes(index), "the rebuilt index equals the one the writer made");
    r = vitfleet("dataset", "inspect", out);
    assertEquals("", r.err(), "rebuilt once, trusted after");
  }

  @Test
  void shouldRefuseAnUnknownSourceKindAndAFormatForFolders() throws IOException {
    assertOneLineError(vitfleet("dataset", "import", "--from", "csv", tmp, "--out", tmp.resolve("o")),
        "--from must be idx or folder, not 'csv'");
    assertOneLineError(vitfleet("dataset", "import", "--from", "folder", imageFolder(), "--out", tmp.resolve("o"),
        "--format", "jpeg"), "--format applies to --from idx only");
    assertFalse(Files.exists(tmp.resolve("o")));
  }
}
