package io.vitfleet.feeder.synthetic;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.Adler32;
import java.util.zip.CRC32;

/**
 * Encodes u8 pixels as a PNG whose zlib stream uses only stored (uncompressed) deflate blocks. Compression would
 * depend on the zlib a JVM links, so its bytes could differ between hosts; stored blocks are fully specified here, so
 * the same pixels give the same PNG bytes everywhere, which replays and the corrupt-data tests compare. Every decoder
 * reads them (they are plain PNG); they are just larger than compressed ones.
 */
public final class PngEncoder {
  private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  /** The most bytes one stored deflate block may hold. */
  private static final int MAX_STORED_BLOCK = 65_535;
  /** zlib header: deflate, 32 KiB window, no dictionary, "fastest" level; (0x78 << 8 | 0x01) % 31 == 0. */
  private static final byte[] ZLIB_HEADER = {0x78, 0x01};
  private static final int BIT_DEPTH = 8;

  private PngEncoder() {}

  /**
   * The PNG of {@code height x width x channels} u8 pixels in HWC order from {@code pixels[offset ..]}.
   *
   * @param channels 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA)
   */
  public static byte[] encode(byte[] pixels, int offset, int height, int width, int channels) {
    int colourType;
    switch (channels) {
      case 1:
        colourType = 0;
        break;
      case 2:
        colourType = 4;
        break;
      case 3:
        colourType = 2;
        break;
      case 4:
        colourType = 6;
        break;
      default:
        throw new IllegalArgumentException("PNG holds 1 to 4 channels, not " + channels);
    }
    int rowBytes = width * channels;
    long rawLong = (long) height * (1 + rowBytes);
    if (rawLong > Integer.MAX_VALUE / 2) {
      throw new IllegalArgumentException("image of " + height + "x" + width + "x" + channels + " is too large");
    }
    byte[] raw = new byte[(int) rawLong];
    for (int y = 0; y < height; y++) {
      // Filter type 0 (none) then the row.
      System.arraycopy(pixels, offset + y * rowBytes, raw, y * (1 + rowBytes) + 1, rowBytes);
    }
    ByteArrayOutputStream png = new ByteArrayOutputStream(raw.length + raw.length / MAX_STORED_BLOCK * 5 + 64);
    png.writeBytes(SIGNATURE);
    ByteBuffer ihdr = ByteBuffer.allocate(13);
    ihdr.putInt(width).putInt(height).put((byte) BIT_DEPTH).put((byte) colourType).put((byte) 0).put((byte) 0)
        .put((byte) 0);
    chunk(png, "IHDR", ihdr.array());
    chunk(png, "IDAT", storedZlib(raw));
    chunk(png, "IEND", new byte[0]);
    return png.toByteArray();
  }

  private static byte[] storedZlib(byte[] raw) {
    int blocks = Math.max(1, (raw.length + MAX_STORED_BLOCK - 1) / MAX_STORED_BLOCK);
    ByteBuffer out = ByteBuffer.allocate(2 + blocks * 5 + raw.length + 4);
    out.put(ZLIB_HEADER);
    for (int b = 0; b < blocks; b++) {
      int from = b * MAX_STORED_BLOCK;
      int length = Math.min(MAX_STORED_BLOCK, raw.length - from);
      out.put((byte) (b == blocks - 1 ? 1 : 0));
      out.put((byte) length).put((byte) (length >>> 8));
      out.put((byte) ~length).put((byte) (~length >>> 8));
      out.put(raw, from, length);
    }
    Adler32 adler = new Adler32();
    adler.update(raw);
    out.putInt((int) adler.getValue());
    return out.array();
  }

  private static void chunk(ByteArrayOutputStream png, String type, byte[] data) {
    byte[] typeBytes = type.getBytes(StandardCharsets.US_ASCII);
    ByteBuffer header = ByteBuffer.allocate(8).putInt(data.length).put(typeBytes);
    png.writeBytes(header.array());
    png.writeBytes(data);
    CRC32 crc = new CRC32();
    crc.update(typeBytes);
    crc.update(data);
    png.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
  }
}
