package io.vitfleet.ops;

import io.vitfleet.feeder.EpochOrder;
import io.vitfleet.feeder.FashionMnist;
import io.vitfleet.feeder.ImageDataset;
import io.vitfleet.feeder.ledger.ImageValidator;
import io.vitfleet.feeder.source.ImageFormat;
import io.vitfleet.feeder.tfrecord.DatasetMetadata;
import io.vitfleet.feeder.tfrecord.ShardName;
import io.vitfleet.feeder.tfrecord.ShardedDatasetWriter;
import java.awt.image.BufferedImage;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code vitfleet dataset import}: writes one split of a data set as TFDS-style TFRecord shards of {@code
 * tf.train.Example} records ({@code image/encoded}, {@code label}), with an index beside each shard and the folder's
 * {@code vitfleet-dataset.json}, from Fashion-MNIST's IDX files or from a folder of images with one subfolder per
 * class.
 */
@Command(name = "import", mixinStandardHelpOptions = true,
    description = {"Writes sharded TFRecord files (tf.train.Example in the TFDS convention: image/encoded, label), an"
        + " index per shard and vitfleet-dataset.json.",
        "--from idx DIR: Fashion-MNIST's IDX files (train-images-idx3-ubyte[.gz] and the others) in DIR; each 28x28"
            + " image is encoded as PNG (lossless) or JPEG. Samples keep the IDX order.",
        "--from folder DIR: one subfolder of DIR per class, label = position of the subfolder in name order; JPEG"
            + " and PNG files are copied as they are, anything else is refused. Samples are shuffled (fixed seed)"
            + " so that every shard holds every class."})
final class DatasetImportCommand implements Callable<Integer> {
  /** The seed of the fixed shuffle of folder imports: part of the format, so that re-imports give the same files. */
  static final long FOLDER_SHUFFLE_SEED = 0x1a9e_f01d_e500_0001L;
  static final String FASHION_MNIST_NAME = "fashion_mnist";

  @Option(names = "--from", required = true, paramLabel = "idx|folder",
      description = "What DIR holds: Fashion-MNIST IDX files, or an image folder with one subfolder per class.")
  String from;

  @Parameters(index = "0", paramLabel = "DIR", description = "The folder to import from.")
  Path source;

  @Option(names = "--out", required = true, paramLabel = "OUTDIR",
      description = "The data set folder to write (created if needed; other splits in it are kept).")
  Path out;

  @Option(names = "--shards", paramLabel = "N", defaultValue = "4",
      description = "TFRecord files to split the samples over (default: ${DEFAULT-VALUE}).")
  int shards;

  @Option(names = "--format", paramLabel = "png|jpeg",
      description = "--from idx only: how to encode the images (default: png, lossless).")
  String format;

  @Option(names = "--jpeg-quality", paramLabel = "Q", defaultValue = "0.95",
      description = "--format jpeg: quality in (0, 1] (default: ${DEFAULT-VALUE}).")
  float jpegQuality;

  @Option(names = "--split", paramLabel = "train|test", defaultValue = "train",
      description = "The split to write (for --from idx: which IDX files to read) (default: ${DEFAULT-VALUE}).")
  String split;

  @Option(names = "--name", paramLabel = "NAME",
      description = "Data set name in the shard file names (default: fashion_mnist for idx, the folder's name).")
  String name;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  /** One image to import: where it comes from and its class. */
  private record Item(Path file, int label) {}

  @Override
  public Integer call() throws IOException {
    ShardName.requireValidSplit(split);
    DatasetMetadata.Split written;
    switch (from) {
      case "idx":
        written = importIdx();
        break;
      case "folder":
        written = importFolder();
        break;
      default:
        throw new UserError("--from must be idx or folder, not '" + from + "'");
    }
    PrintWriter o = spec.commandLine().getOut();
    o.printf(Locale.ROOT, "imported %,d samples of %d classes from %s into %s: split %s of %s, %d shard(s) %s .. %s,"
            + " an index per shard, %s%n", written.examples(), written.classes().size(), source, out, split,
        written.name(), written.shards().size(), written.shards().get(0).file(),
        written.shards().get(written.shards().size() - 1).file(), DatasetMetadata.FILE_NAME);
    o.flush();
    return 0;
  }

  private DatasetMetadata.Split importIdx() throws IOException {
    requireFolder(source, "IDX folder");
    String encoding = format == null ? "png" : format.toLowerCase(Locale.ROOT);
    if (!encoding.equals("png") && !encoding.equals("jpeg") && !encoding.equals("jpg")) {
      throw new UserError("--format must be png or jpeg, not '" + format + "'");
    }
    if (jpegQuality <= 0 || jpegQuality > 1) {
      throw new UserError("--jpeg-quality must be in (0, 1], not " + jpegQuality);
    }
    ImageDataset images;
    switch (split) {
      case "train":
        images = FashionMnist.train(source);
        break;
      case "test":
        images = FashionMnist.test(source);
        break;
      default:
        throw new UserError("--from idx reads Fashion-MNIST's train or test files: --split must be train or test, not '"
            + split + "'");
    }
    String datasetName = name != null ? name : FASHION_MNIST_NAME;
    try (ShardedDatasetWriter writer = new ShardedDatasetWriter(out, datasetName, split, shards, images.size(),
        FashionMnist.CLASS_NAMES)) {
      BufferedImage image = new BufferedImage(images.cols(), images.rows(), BufferedImage.TYPE_BYTE_GRAY);
      WritableRaster raster = image.getRaster();
      int[] pixels = new int[images.pixelsPerImage()];
      for (int i = 0; i < images.size(); i++) {
        for (int p = 0; p < pixels.length; p++) {
          pixels[p] = images.pixel(i, p);
        }
        raster.setPixels(0, 0, images.cols(), images.rows(), pixels);
        writer.add(encoding.equals("png") ? png(image) : jpeg(image, jpegQuality), images.label(i));
      }
      return writer.finish();
    }
  }

  private DatasetMetadata.Split importFolder() throws IOException {
    if (format != null) {
      throw new UserError("--format applies to --from idx only: folder images are copied as they are");
    }
    requireFolder(source, "image folder");
    List<Path> entries = list(source);
    if (entries.isEmpty()) {
      throw new UserError("image folder " + source + " is empty: put the images of each class in a subfolder named"
          + " after the class (e.g. " + source.resolve("cat").resolve("1.jpg") + ")");
    }
    List<String> classes = new ArrayList<>();
    List<Item> items = new ArrayList<>();
    int ignored = 0;
    for (Path entry : entries) {
      if (!Files.isDirectory(entry)) {
        ignored++;
        continue;
      }
      int label = classes.size();
      classes.add(entry.getFileName().toString());
      int before = items.size();
      for (Path file : list(entry)) {
        if (Files.isDirectory(file)) {
          throw new UserError("class folder " + entry + " holds a folder, " + file.getFileName() + ": class folders"
              + " hold images only; move its images up or remove it");
        }
        ImageFormat kind = ImageFormat.sniff(head(file));
        if (kind != ImageFormat.PNG && kind != ImageFormat.JPEG) {
          throw new UserError(file + " is not a JPEG or PNG image; convert it to one of them or remove it");
        }
        items.add(new Item(file, label));
      }
      if (items.size() == before) {
        throw new UserError("class folder " + entry + " has no images; add JPEG or PNG files to it or remove it");
      }
    }
    if (classes.isEmpty()) {
      throw new UserError("image folder " + source + " has no class subfolders (only files): put the images of each"
          + " class in a subfolder named after the class (e.g. " + source.resolve("cat").resolve("1.jpg") + ")");
    }
    if (ignored > 0) {
      warn("ignored " + ignored + " file(s) at the top of " + source + ": only its subfolders are classes");
    }
    String datasetName = name != null ? name : defaultName(source);
    EpochOrder shuffle = new EpochOrder(items.size());
    ImageValidator validator = ImageValidator.structural();
    try (ShardedDatasetWriter writer = new ShardedDatasetWriter(out, datasetName, split, shards, items.size(),
        classes)) {
      for (int i = 0; i < items.size(); i++) {
        Item item = items.get((int) shuffle.index(FOLDER_SHUFFLE_SEED, 0, i));
        byte[] bytes = Files.readAllBytes(item.file());
        String problem = validator.problem(ImageFormat.sniff(bytes), bytes);
        if (problem != null) {
          throw new UserError(item.file() + " is a damaged image: " + problem + "; replace it or remove it");
        }
        writer.add(bytes, item.label());
      }
      return writer.finish();
    }
  }

  /** The folder's name made a valid data set name: lower case, characters other than [a-z0-9_.-] as '_'. */
  static String defaultName(Path folder) {
    Path fileName = folder.toAbsolutePath().normalize().getFileName();
    String raw = fileName == null ? "dataset" : fileName.toString().toLowerCase(Locale.ROOT);
    String cleaned = raw.replaceAll("[^a-z0-9_.-]", "_").replaceAll("^[.-]+", "");
    return cleaned.isEmpty() ? "dataset" : cleaned;
  }

  private static void requireFolder(Path dir, String what) {
    if (!Files.exists(dir)) {
      throw new UserError(what + " not found: " + dir + "; check the path");
    }
    if (!Files.isDirectory(dir)) {
      throw new UserError(dir + " is not a folder; pass the " + what + " holding the files");
    }
  }

  /** The folder's entries sorted by name, hidden ones (starting with '.') left out. */
  private static List<Path> list(Path dir) throws IOException {
    List<Path> entries = new ArrayList<>();
    try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
      for (Path p : stream) {
        if (!p.getFileName().toString().startsWith(".")) {
          entries.add(p);
        }
      }
    }
    entries.sort((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()));
    return entries;
  }

  private static byte[] head(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return in.readNBytes(8);
    }
  }

  private static byte[] png(BufferedImage image) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    if (!ImageIO.write(image, "png", bytes)) {
      throw new IllegalStateException("this JVM has no PNG encoder (javax.imageio)");
    }
    return bytes.toByteArray();
  }

  private static byte[] jpeg(BufferedImage image, float quality) throws IOException {
    Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("jpeg");
    if (!writers.hasNext()) {
      throw new IllegalStateException("this JVM has no JPEG encoder (javax.imageio)");
    }
    ImageWriter writer = writers.next();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (MemoryCacheImageOutputStream stream = new MemoryCacheImageOutputStream(bytes)) {
      writer.setOutput(stream);
      ImageWriteParam param = writer.getDefaultWriteParam();
      param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
      param.setCompressionQuality(quality);
      writer.write(null, new IIOImage(image, null, null), param);
    } finally {
      writer.dispose();
    }
    return bytes.toByteArray();
  }

  private void warn(String message) {
    PrintWriter err = spec.commandLine().getErr();
    err.println("vitfleet: warning: " + message);
    err.flush();
  }
}
