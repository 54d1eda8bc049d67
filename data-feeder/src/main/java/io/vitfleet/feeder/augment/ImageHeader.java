package io.vitfleet.feeder.augment;

/**
 * The format and size of an encoded image, read from its header without decoding: the crop window must be drawn
 * before TensorFlow decodes (the JPEG decoder then decodes only the window's rows). PNG: the IHDR chunk; JPEG: the
 * first start-of-frame marker.
 */
public record ImageHeader(Format format, int height, int width) {

  /** The encodings the feeder decodes. */
  public enum Format { JPEG, PNG }

  private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  /** Signature (8) + IHDR length (4) + "IHDR" (4) + width (4) + height (4). */
  private static final int PNG_HEADER_BYTES = 24;
  /** PNG limits each side to 2^31 - 1; we accept what fits a decoded tensor. */
  private static final int MAX_SIDE = 1 << 16;

  /**
   * Reads the header of {@code encoded}.
   *
   * @throws ImageFormatException (naming what is wrong) if it is neither a JPEG nor a PNG, or its header is cut short
   */
  public static ImageHeader read(byte[] encoded) {
    if (encoded.length >= PNG_HEADER_BYTES && startsWith(encoded, PNG_SIGNATURE)) {
      if (!(encoded[12] == 'I' && encoded[13] == 'H' && encoded[14] == 'D' && encoded[15] == 'R')) {
        throw new ImageFormatException("PNG without an IHDR chunk first");
      }
      return checked(Format.PNG, int32(encoded, 20), int32(encoded, 16));
    }
    if (encoded.length >= 4 && (encoded[0] & 0xff) == 0xff && (encoded[1] & 0xff) == 0xd8) {
      return jpeg(encoded);
    }
    throw new ImageFormatException("neither a JPEG nor a PNG (" + encoded.length + " bytes, starting "
        + hex(encoded) + ")");
  }

  private static ImageHeader jpeg(byte[] b) {
    int i = 2;
    while (i + 4 <= b.length) {
      if ((b[i] & 0xff) != 0xff) {
        throw new ImageFormatException("JPEG marker expected at offset " + i);
      }
      int marker = b[i + 1] & 0xff;
      if (marker == 0xff) {
        i++;
        continue;
      }
      if (marker == 0xd8 || marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
        i += 2;
        continue;
      }
      if (marker == 0xd9 || marker == 0xda) {
        break;
      }
      int length = ((b[i + 2] & 0xff) << 8) | (b[i + 3] & 0xff);
      if (isStartOfFrame(marker)) {
        if (i + 9 > b.length) {
          break;
        }
        int height = ((b[i + 5] & 0xff) << 8) | (b[i + 6] & 0xff);
        int width = ((b[i + 7] & 0xff) << 8) | (b[i + 8] & 0xff);
        return checked(Format.JPEG, height, width);
      }
      if (length < 2) {
        throw new ImageFormatException("JPEG segment of length " + length + " at offset " + i);
      }
      i += 2 + length;
    }
    throw new ImageFormatException("JPEG without a frame header (truncated or damaged, " + b.length + " bytes)");
  }

  /** SOF0..SOF15 except DHT (c4), JPG (c8) and DAC (cc). */
  private static boolean isStartOfFrame(int marker) {
    return marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc;
  }

  private static ImageHeader checked(Format format, int height, int width) {
    if (height < 1 || width < 1 || height > MAX_SIDE || width > MAX_SIDE) {
      throw new ImageFormatException(format + " header declares " + height + "x" + width + " pixels; sides must be in"
          + " 1.." + MAX_SIDE);
    }
    return new ImageHeader(format, height, width);
  }

  private static boolean startsWith(byte[] b, byte[] prefix) {
    for (int i = 0; i < prefix.length; i++) {
      if (b[i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  private static int int32(byte[] b, int at) {
    return ((b[at] & 0xff) << 24) | ((b[at + 1] & 0xff) << 16) | ((b[at + 2] & 0xff) << 8) | (b[at + 3] & 0xff);
  }

  private static String hex(byte[] b) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < Math.min(4, b.length); i++) {
      s.append(String.format("%02x", b[i] & 0xff));
    }
    return s.length() == 0 ? "(empty)" : s.toString();
  }
}
