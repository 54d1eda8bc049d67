package io.vitfleet.feeder.source;

/**
 * How a sample's image bytes are encoded, recognised from their first bytes (never from a file name), and the shape
 * their header declares. Only a header is read here; whether the rest decodes is an
 * {@link io.vitfleet.feeder.ledger.ImageValidator}'s question.
 */
public enum ImageFormat {
  PNG("png"),
  JPEG("jpeg"),
  /** u8 pixels in HWC order of a shape the source declares (synthetic data); no header. */
  RAW("raw"),
  /** Neither PNG nor JPEG. */
  UNKNOWN("unknown");

  /** The 8-byte PNG signature. */
  static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  /** PNG: the IHDR chunk follows the signature: length (4), type (4), width (4), height (4), depth, colour type. */
  private static final int PNG_IHDR_END = 8 + 8 + 13;
  private static final int JPEG_MARKER = 0xff;
  private static final int JPEG_SOI = 0xd8;
  private static final int JPEG_SOS = 0xda;
  private static final int JPEG_EOI = 0xd9;

  private final String label;

  ImageFormat(String label) {
    this.label = label;
  }

  /** The lower-case name used in metadata and messages: png, jpeg, raw, unknown. */
  public String label() {
    return label;
  }

  /** PNG if the bytes start with the PNG signature, JPEG if with a JPEG SOI marker (FF D8 FF), else UNKNOWN. */
  public static ImageFormat sniff(byte[] bytes) {
    if (bytes == null) {
      return UNKNOWN;
    }
    if (bytes.length >= PNG_SIGNATURE.length) {
      boolean png = true;
      for (int i = 0; i < PNG_SIGNATURE.length && png; i++) {
        png = bytes[i] == PNG_SIGNATURE[i];
      }
      if (png) {
        return PNG;
      }
    }
    if (bytes.length >= 3 && (bytes[0] & 0xff) == JPEG_MARKER && (bytes[1] & 0xff) == JPEG_SOI
        && (bytes[2] & 0xff) == JPEG_MARKER) {
      return JPEG;
    }
    return UNKNOWN;
  }

  /**
   * The shape a PNG or JPEG header declares (PNG: IHDR; JPEG: the first start-of-frame segment), or null if the
   * bytes are not PNG or JPEG or the header is damaged.
   */
  public static ImageShape shapeOf(byte[] bytes) {
    switch (sniff(bytes)) {
      case PNG:
        return pngShape(bytes);
      case JPEG:
        return jpegShape(bytes);
      default:
        return null;
    }
  }

  private static ImageShape pngShape(byte[] b) {
    if (b.length < PNG_IHDR_END || bigEndianInt(b, 8) != 13 || b[12] != 'I' || b[13] != 'H' || b[14] != 'D'
        || b[15] != 'R') {
      return null;
    }
    int width = bigEndianInt(b, 16);
    int height = bigEndianInt(b, 20);
    int channels;
    switch (b[25]) {
      case 0:
        channels = 1;
        break;
      case 2:
      case 3:
        channels = 3;
        break;
      case 4:
        channels = 2;
        break;
      case 6:
        channels = 4;
        break;
      default:
        return null;
    }
    return width > 0 && height > 0 ? new ImageShape(height, width, channels) : null;
  }

  private static ImageShape jpegShape(byte[] b) {
    int p = 2;
    while (p + 4 <= b.length) {
      if ((b[p] & 0xff) != JPEG_MARKER) {
        return null;
      }
      int marker = b[p + 1] & 0xff;
      if (marker == JPEG_MARKER) {
        p++;
        continue;
      }
      if (marker == JPEG_SOS || marker == JPEG_EOI) {
        return null;
      }
      int length = ((b[p + 2] & 0xff) << 8) | (b[p + 3] & 0xff);
      if (length < 2) {
        return null;
      }
      if (isStartOfFrame(marker)) {
        if (p + 10 > b.length) {
          return null;
        }
        int height = ((b[p + 5] & 0xff) << 8) | (b[p + 6] & 0xff);
        int width = ((b[p + 7] & 0xff) << 8) | (b[p + 8] & 0xff);
        int components = b[p + 9] & 0xff;
        return height > 0 && width > 0 && components >= 1 && components <= 4
            ? new ImageShape(height, width, components) : null;
      }
      p += 2 + length;
    }
    return null;
  }

  /** SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC). */
  static boolean isStartOfFrame(int marker) {
    return marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc;
  }

  static int bigEndianInt(byte[] b, int off) {
    return ((b[off] & 0xff) << 24) | ((b[off + 1] & 0xff) << 16) | ((b[off + 2] & 0xff) << 8) | (b[off + 3] & 0xff);
  }
}
