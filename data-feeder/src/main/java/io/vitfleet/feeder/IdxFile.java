package io.vitfleet.feeder;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * One IDX file (the MNIST family's format) read fully into memory: a big-endian header of magic {@code 0x0000TTNN}
 * (TT = element type, NN = number of dimensions), NN big-endian int32 dimensions, then the elements row-major. Only
 * u8 elements are supported, which is what the image data sets use.
 *
 * <p>The file may be gzip-compressed or raw; compression is recognised from the content (the gzip magic bytes), not
 * the name. The reader insists on an exact length: a truncated or over-long file is an error naming the file, the
 * expected and the actual byte counts, because a silently short data set would break "every sample exactly once".
 */
public final class IdxFile {
  /** u8 elements, 3 dimensions: images [n, rows, cols]. */
  public static final int MAGIC_U8_IMAGES = 0x00000803;
  /** u8 elements, 1 dimension: labels [n]. */
  public static final int MAGIC_U8_LABELS = 0x00000801;

  /** The largest element count we hold in one Java array (a little below Integer.MAX_VALUE, as the JVM requires). */
  static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

  /** The upper 24 bits of a u8 magic: two zero bytes, then type 0x08. */
  private static final int TYPE_U8_PREFIX = 0x000008;

  private static final int GZIP_MAGIC_0 = 0x1f;
  private static final int GZIP_MAGIC_1 = 0x8b;
  /** Read buffer: large enough that gzip inflation, not the calls, dominates; small enough not to matter. */
  private static final int BUFFER_BYTES = 1 << 16;
  private static final String REPLACE_HINT = "the file is incomplete or damaged: replace it (re-download it, or "
      + "reinstall the package that provides it)";

  private final Path path;
  private final int magic;
  private final int[] dims;
  private final byte[] data;

  private IdxFile(Path path, int magic, int[] dims, byte[] data) {
    this.path = path;
    this.magic = magic;
    this.dims = dims;
    this.data = data;
  }

  /** Reads a u8 image file: magic {@link #MAGIC_U8_IMAGES}, dimensions [n, rows, cols]. */
  public static IdxFile readImages(Path path) {
    return read(path, MAGIC_U8_IMAGES);
  }

  /** Reads a u8 label file: magic {@link #MAGIC_U8_LABELS}, dimensions [n]. */
  public static IdxFile readLabels(Path path) {
    return read(path, MAGIC_U8_LABELS);
  }

  /**
   * Reads the whole file, gzip-compressed or raw, and checks that its magic is {@code expectedMagic} and that its
   * length is exactly what the header's dimensions say.
   *
   * @throws DatasetException if the file is missing, unreadable, has another magic, or has the wrong length
   */
  public static IdxFile read(Path path, int expectedMagic) {
    if ((expectedMagic >>> 8) != TYPE_U8_PREFIX) {
      throw new IllegalArgumentException(String.format(
          "only u8 IDX files are supported, not magic 0x%08x", expectedMagic));
    }
    try (InputStream file = Files.newInputStream(path)) {
      return parse(path, expectedMagic, file);
    } catch (NoSuchFileException e) {
      throw new DatasetException(path, "IDX file not found: " + path + "; check the path", e);
    } catch (ZipException e) {
      throw new DatasetException(path, path + " is not valid gzip data (" + e.getMessage() + "); " + REPLACE_HINT, e);
    } catch (IOException e) {
      throw new DatasetException(path, "cannot read IDX file " + path + ": " + e.getClass().getSimpleName() + ": "
          + e.getMessage() + "; check that it is a readable file", e);
    }
  }

  private static IdxFile parse(Path path, int expectedMagic, InputStream file) throws IOException {
    BufferedInputStream buffered = new BufferedInputStream(file, BUFFER_BYTES);
    boolean gzip = startsWithGzipMagic(buffered);
    InputStream in = gzip ? new GZIPInputStream(buffered, BUFFER_BYTES) : buffered;

    byte[] magicBytes = new byte[4];
    int got = readFully(in, magicBytes, 0, 4);
    if (got < 4) {
      throw new DatasetException(path, path + " is truncated: " + bytes(got, gzip)
          + ", shorter than the 4-byte IDX magic; " + REPLACE_HINT);
    }
    int magic = bigEndianInt(magicBytes, 0);
    if (magic != expectedMagic) {
      throw new DatasetException(path, String.format("%s has IDX magic 0x%08x where 0x%08x (%s) was expected; %s",
          path, magic, expectedMagic, describe(expectedMagic), wrongMagicHint(magic, gzip)));
    }
    int rank = expectedMagic & 0xff;
    int headerBytes = 4 + 4 * rank;
    byte[] dimBytes = new byte[4 * rank];
    got = readFully(in, dimBytes, 0, dimBytes.length);
    if (got < dimBytes.length) {
      throw new DatasetException(path, path + " is truncated: " + bytes(4 + got, gzip) + ", shorter than the "
          + headerBytes + "-byte IDX header; " + REPLACE_HINT);
    }
    int[] dims = new int[rank];
    long elements = 1;
    for (int i = 0; i < rank; i++) {
      dims[i] = bigEndianInt(dimBytes, 4 * i);
      if (dims[i] < 0) {
        throw new DatasetException(path, path + " declares a negative dimension " + dims[i] + " at axis " + i + "; "
            + REPLACE_HINT);
      }
      elements *= dims[i];
      if (elements > MAX_ELEMENTS) {
        throw new DatasetException(path, path + " declares dims " + Arrays.toString(Arrays.copyOf(dims, i + 1))
            + "..., more than " + MAX_ELEMENTS + " elements, too large to hold in memory; use a sharded format");
      }
    }
    long expectedBytes = headerBytes + elements;
    byte[] data = new byte[(int) elements];
    got = readFully(in, data, 0, data.length);
    if (got < data.length) {
      throw new DatasetException(path, path + " is truncated: " + bytes(headerBytes + got, gzip) + ", expected "
          + expectedBytes + " for dims " + Arrays.toString(dims) + "; " + REPLACE_HINT);
    }
    long extra;
    try {
      extra = countRemaining(in);
    } catch (EOFException cutTrailer) {
      throw new DatasetException(path, path + " is truncated: its gzip stream ends before the CRC trailer, after all "
          + expectedBytes + " bytes of content, so they cannot be verified; " + REPLACE_HINT, cutTrailer);
    }
    if (extra > 0) {
      throw new DatasetException(path, path + " is too long: " + bytes(expectedBytes + extra, gzip) + ", expected "
          + expectedBytes + " for dims " + Arrays.toString(dims) + " (" + extra + " extra bytes); it is not one IDX"
          + " file of those dims: replace it");
    }
    return new IdxFile(path, magic, dims, data);
  }

  private static boolean startsWithGzipMagic(BufferedInputStream in) throws IOException {
    in.mark(2);
    int b0 = in.read();
    int b1 = in.read();
    in.reset();
    return b0 == GZIP_MAGIC_0 && b1 == GZIP_MAGIC_1;
  }

  /** Reads until {@code len} bytes or the end; a gzip stream that ends early counts as the end. */
  private static int readFully(InputStream in, byte[] buffer, int off, int len) throws IOException {
    int total = 0;
    try {
      while (total < len) {
        int n = in.read(buffer, off + total, len - total);
        if (n < 0) {
          break;
        }
        total += n;
      }
    } catch (EOFException truncatedGzip) {
      // GZIPInputStream reports a cut-off stream this way; the caller reports it as a short file.
    }
    return total;
  }

  /** Bytes left after the payload; an EOFException means a gzip stream cut off (in its trailer, or in extra bytes). */
  private static long countRemaining(InputStream in) throws IOException {
    byte[] scratch = new byte[BUFFER_BYTES];
    long total = 0;
    for (int n; (n = in.read(scratch)) >= 0; ) {
      total += n;
    }
    return total;
  }

  private static String bytes(long count, boolean gzip) {
    return count + (gzip ? " bytes decompressed" : " bytes");
  }

  private static int bigEndianInt(byte[] b, int off) {
    return ((b[off] & 0xff) << 24) | ((b[off + 1] & 0xff) << 16) | ((b[off + 2] & 0xff) << 8) | (b[off + 3] & 0xff);
  }

  private static String describe(int magic) {
    switch (magic) {
      case MAGIC_U8_IMAGES:
        return "u8 images [n, rows, cols]";
      case MAGIC_U8_LABELS:
        return "u8 labels [n]";
      default:
        return "u8, " + (magic & 0xff) + " dims";
    }
  }

  private static String wrongMagicHint(int actual, boolean gzip) {
    if (actual == MAGIC_U8_LABELS) {
      return "it looks like a labels file: check that images and labels paths are not swapped";
    }
    if (actual == MAGIC_U8_IMAGES) {
      return "it looks like an images file: check that images and labels paths are not swapped";
    }
    return (gzip ? "the decompressed content" : "the file") + " is not a u8 IDX file: check the path";
  }

  public Path path() {
    return path;
  }

  public int magic() {
    return magic;
  }

  /** Number of dimensions. */
  public int rank() {
    return dims.length;
  }

  /** Size of dimension {@code axis}. */
  public int dim(int axis) {
    return dims[axis];
  }

  /** A copy of the dimensions. */
  public int[] dims() {
    return dims.clone();
  }

  /**
   * The elements, row-major, as unsigned bytes ({@code b & 0xff}). This is the reader's own array, not a copy: the
   * files are tens of megabytes and are read to be handed on once.
   */
  public byte[] data() {
    return data;
  }
}
