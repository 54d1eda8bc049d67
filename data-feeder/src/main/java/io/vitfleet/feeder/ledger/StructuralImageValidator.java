package io.vitfleet.feeder.ledger;

import io.vitfleet.feeder.source.ImageFormat;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Checks an image's structure without decoding its pixels into an image:
 *
 * <ul>
 *   <li>PNG: the signature; every chunk inside the bytes with a valid type and a matching CRC32; IHDR first with a
 *       sane size, bit depth and colour type; at least one IDAT; IEND; and the IDAT zlib stream inflating, with its
 *       Adler-32, to exactly the bytes the header implies. That covers every byte a decoder reads, so a damaged PNG
 *       is caught.
 *   <li>JPEG: the start-of-image marker; marker segments with lengths inside the bytes; a quantisation table and a
 *       start-of-frame with a non-zero size before the first start-of-scan; an end-of-image marker after it. JPEG has
 *       no checksum, so damage inside the entropy-coded data passes: the record CRC is what guards that, and
 *       {@link TfDecodeImageValidator} can be added for a full decode.
 *   <li>Anything else: rejected (TFDS images are JPEG or PNG).
 * </ul>
 */
final class StructuralImageValidator implements ImageValidator {
  static final StructuralImageValidator INSTANCE = new StructuralImageValidator();

  private static final int PNG_SIGNATURE_BYTES = 8;
  private static final int JPEG_DQT = 0xdb;
  private static final int JPEG_SOS = 0xda;
  private static final int JPEG_EOI = 0xd9;
  /** Decoders cap images at this many pixels; a header above it is damage or an attack. */
  private static final long MAX_PIXELS = 1L << 28;

  /** One inflater per thread: creating one allocates native zlib state, which would dominate a small image's check. */
  private static final ThreadLocal<Inflater> INFLATER = ThreadLocal.withInitial(Inflater::new);
  private static final ThreadLocal<byte[]> SCRATCH = ThreadLocal.withInitial(() -> new byte[8192]);

  private StructuralImageValidator() {}

  @Override
  public String problem(ImageFormat format, byte[] image) {
    if (format == ImageFormat.RAW) {
      return null;
    }
    switch (ImageFormat.sniff(image)) {
      case PNG:
        return pngProblem(image);
      case JPEG:
        return jpegProblem(image);
      default:
        return "the image is neither PNG nor JPEG (it starts with " + hexPrefix(image) + ")";
    }
  }

  private static String pngProblem(byte[] b) {
    int p = PNG_SIGNATURE_BYTES;
    boolean first = true;
    long width = 0;
    long height = 0;
    int bitsPerPixel = 0;
    boolean interlaced = false;
    Inflater inflater = INFLATER.get();
    inflater.reset();
    byte[] scratch = SCRATCH.get();
    long inflated = 0;
    long expected = 0;
    boolean sawData = false;
    try {
      while (true) {
        if (b.length - p < 12) {
          return "the PNG ends at byte " + b.length + " before its IEND chunk (truncated)";
        }
        long length = Integer.toUnsignedLong(readInt(b, p));
        if (length > b.length - p - 12L) {
          return "the PNG chunk at byte " + p + " declares " + length + " bytes, past the end of the image";
        }
        String type = chunkType(b, p + 4);
        if (type == null) {
          return "the PNG chunk at byte " + p + " has an invalid type";
        }
        int dataStart = p + 8;
        int dataEnd = dataStart + (int) length;
        CRC32 crc = new CRC32();
        crc.update(b, p + 4, 4 + (int) length);
        if ((int) crc.getValue() != readInt(b, dataEnd)) {
          return "the PNG chunk " + type + " at byte " + p + " fails its CRC";
        }
        if (first) {
          if (!type.equals("IHDR") || length != 13) {
            return "the PNG does not start with a 13-byte IHDR chunk";
          }
          width = Integer.toUnsignedLong(readInt(b, dataStart));
          height = Integer.toUnsignedLong(readInt(b, dataStart + 4));
          bitsPerPixel = bitsPerPixel(b[dataStart + 8], b[dataStart + 9]);
          interlaced = b[dataStart + 12] == 1;
          if (width == 0 || height == 0 || width * height > MAX_PIXELS || bitsPerPixel == 0
              || b[dataStart + 10] != 0 || b[dataStart + 11] != 0 || b[dataStart + 12] > 1) {
            return "the PNG header is invalid (" + width + "x" + height + ", depth " + b[dataStart + 8]
                + ", colour type " + b[dataStart + 9] + ")";
          }
          expected = interlaced ? -1 : height * (1 + (width * bitsPerPixel + 7) / 8);
          first = false;
        } else if (type.equals("IDAT")) {
          sawData = true;
          inflater.setInput(b, dataStart, (int) length);
          while (!inflater.needsInput() && !inflater.finished()) {
            int n = inflater.inflate(scratch);
            inflated += n;
            if (expected >= 0 && inflated > expected) {
              return "the PNG pixel stream holds more bytes than its " + width + "x" + height + " header implies";
            }
            if (n == 0 && inflater.needsDictionary()) {
              return "the PNG pixel stream needs a preset dictionary";
            }
          }
        } else if (type.equals("IEND")) {
          if (!sawData) {
            return "the PNG has no IDAT chunk";
          }
          if (!inflater.finished()) {
            return "the PNG pixel stream is incomplete";
          }
          if (expected >= 0 && inflated != expected) {
            return "the PNG pixel stream holds " + inflated + " bytes, its header implies " + expected;
          }
          return null;
        }
        p = dataEnd + 4;
      }
    } catch (DataFormatException e) {
      return "the PNG pixel stream is not valid zlib data (" + e.getMessage() + ")";
    }
  }

  /** Bits per pixel for a PNG bit depth and colour type, or 0 if the pair is invalid. */
  private static int bitsPerPixel(byte depth, byte colourType) {
    int d = depth;
    switch (colourType) {
      case 0:
        return d == 1 || d == 2 || d == 4 || d == 8 || d == 16 ? d : 0;
      case 3:
        return d == 1 || d == 2 || d == 4 || d == 8 ? d : 0;
      case 2:
        return d == 8 || d == 16 ? 3 * d : 0;
      case 4:
        return d == 8 || d == 16 ? 2 * d : 0;
      case 6:
        return d == 8 || d == 16 ? 4 * d : 0;
      default:
        return 0;
    }
  }

  private static String jpegProblem(byte[] b) {
    int p = 2;
    boolean sawTables = false;
    boolean sawFrame = false;
    while (true) {
      if (b.length - p < 2) {
        return "the JPEG ends at byte " + b.length + " before its image data (truncated)";
      }
      if ((b[p] & 0xff) != 0xff) {
        return "the JPEG has no marker at byte " + p;
      }
      int marker = b[p + 1] & 0xff;
      if (marker == 0xff) {
        p++;
        continue;
      }
      if (marker == JPEG_EOI) {
        return "the JPEG ends before its image data";
      }
      if (marker >= 0xd0 && marker <= 0xd7 || marker == 0x01) {
        p += 2;
        continue;
      }
      if (b.length - p < 4) {
        return "the JPEG ends inside the segment at byte " + p + " (truncated)";
      }
      int length = ((b[p + 2] & 0xff) << 8) | (b[p + 3] & 0xff);
      if (length < 2 || p + 2 + length > b.length) {
        return "the JPEG segment at byte " + p + " declares " + length + " bytes, past the end of the image";
      }
      if (marker == JPEG_DQT) {
        sawTables = true;
      } else if (isStartOfFrame(marker)) {
        if (length < 8 || ((b[p + 5] & 0xff) << 8 | (b[p + 6] & 0xff)) == 0
            || ((b[p + 7] & 0xff) << 8 | (b[p + 8] & 0xff)) == 0 || (b[p + 9] & 0xff) == 0) {
          return "the JPEG frame header at byte " + p + " declares an empty image";
        }
        sawFrame = true;
      } else if (marker == JPEG_SOS) {
        if (!sawFrame || !sawTables) {
          return "the JPEG image data at byte " + p + " comes before its " + (sawFrame ? "quantisation tables"
              : "frame header");
        }
        for (int q = p + 2 + length; q + 1 < b.length; q++) {
          if ((b[q] & 0xff) == 0xff && (b[q + 1] & 0xff) == JPEG_EOI) {
            return null;
          }
        }
        return "the JPEG has no end-of-image marker (truncated)";
      }
      p += 2 + length;
    }
  }

  private static boolean isStartOfFrame(int marker) {
    return marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc;
  }

  private static String chunkType(byte[] b, int off) {
    for (int i = 0; i < 4; i++) {
      int c = b[off + i];
      if (!(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z')) {
        return null;
      }
    }
    return new String(b, off, 4, StandardCharsets.US_ASCII);
  }

  private static int readInt(byte[] b, int off) {
    return ((b[off] & 0xff) << 24) | ((b[off + 1] & 0xff) << 16) | ((b[off + 2] & 0xff) << 8) | (b[off + 3] & 0xff);
  }

  static String hexPrefix(byte[] b) {
    if (b == null || b.length == 0) {
      return "nothing: it is empty";
    }
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < Math.min(4, b.length); i++) {
      s.append(String.format("%02x", b[i] & 0xff));
    }
    return "0x" + s;
  }
}
