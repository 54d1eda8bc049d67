package io.vitfleet.feeder.tfrecord;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * The TFRecord framing, the one place its layout lives. Each record is
 *
 * <pre>
 *   uint64 length          little-endian
 *   uint32 masked_crc32c(length bytes)
 *   byte   data[length]
 *   uint32 masked_crc32c(data)
 * </pre>
 *
 * <p>and a file is records end to end, nothing else. The CRC is CRC32C (Castagnoli), masked as TensorFlow does so that
 * a CRC stored inside CRC-protected data does not checksum to a constant: {@code ((crc >>> 15) | (crc << 17)) +
 * 0xa282ead8}.
 */
public final class TfRecordFormat {
  /** The length field (8) and its masked CRC (4). */
  public static final int HEADER_BYTES = 12;
  /** The data's masked CRC. */
  public static final int FOOTER_BYTES = 4;
  /** Bytes a record takes beyond its data. */
  public static final int OVERHEAD_BYTES = HEADER_BYTES + FOOTER_BYTES;
  /**
   * The largest record data we accept: records are read whole into one array, and no image Example comes near this;
   * a length above it in a header is treated as damage, not as a reason to allocate.
   */
  public static final int MAX_DATA_BYTES = (1 << 30) - OVERHEAD_BYTES;
  private static final int MASK_DELTA = 0xa282ead8;

  private TfRecordFormat() {}

  /** CRC32C of {@code length} bytes of {@code bytes} from {@code offset}. */
  public static int crc32c(byte[] bytes, int offset, int length) {
    CRC32C crc = new CRC32C();
    crc.update(bytes, offset, length);
    return (int) crc.getValue();
  }

  /** TensorFlow's mask of a CRC. */
  public static int mask(int crc) {
    return ((crc >>> 15) | (crc << 17)) + MASK_DELTA;
  }

  /** The inverse of {@link #mask}. */
  public static int unmask(int masked) {
    int rotated = masked - MASK_DELTA;
    return (rotated >>> 17) | (rotated << 15);
  }

  /** The masked CRC32C of {@code length} bytes of {@code bytes} from {@code offset}, as stored in a record. */
  public static int maskedCrc(byte[] bytes, int offset, int length) {
    return mask(crc32c(bytes, offset, length));
  }

  /** The 12 header bytes of a record of {@code dataLength} bytes. */
  public static byte[] header(long dataLength) {
    byte[] header = new byte[HEADER_BYTES];
    ByteBuffer buffer = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
    buffer.putLong(0, dataLength);
    buffer.putInt(8, maskedCrc(header, 0, 8));
    return header;
  }

  /** The whole framed record of {@code data}. */
  public static byte[] frame(byte[] data) {
    byte[] record = new byte[OVERHEAD_BYTES + data.length];
    System.arraycopy(header(data.length), 0, record, 0, HEADER_BYTES);
    System.arraycopy(data, 0, record, HEADER_BYTES, data.length);
    putIntLe(record, HEADER_BYTES + data.length, maskedCrc(data, 0, data.length));
    return record;
  }

  /**
   * The data length a 12-byte header at {@code offset} declares, or -1 if its CRC does not match or the length is
   * negative or above {@link #MAX_DATA_BYTES}.
   */
  public static long headerLength(byte[] bytes, int offset) {
    long length = getLongLe(bytes, offset);
    if (maskedCrc(bytes, offset, 8) != getIntLe(bytes, offset + 8) || length < 0 || length > MAX_DATA_BYTES) {
      return -1;
    }
    return length;
  }

  static long getLongLe(byte[] b, int off) {
    return ByteBuffer.wrap(b, off, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
  }

  static int getIntLe(byte[] b, int off) {
    return ByteBuffer.wrap(b, off, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
  }

  static void putIntLe(byte[] b, int off, int value) {
    ByteBuffer.wrap(b, off, 4).order(ByteOrder.LITTLE_ENDIAN).putInt(value);
  }
}
