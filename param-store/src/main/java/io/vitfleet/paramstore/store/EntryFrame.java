package io.vitfleet.paramstore.store;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * The layout of every value in a shard's map: a header that tags the value with what it is, the step and slot it
 * belongs to and the key it was written under, then the payload, then zero padding up to the store's constant value
 * size. The CRC32C covers the header and the payload, so a torn value, a stale value from an older step or a value
 * found under the wrong key are all told apart from a good one without trusting anything else in the file.
 *
 * <pre>
 * offset  0 int   magic "VFSE"
 *         4 byte  kind (PARAMS, STATE, PARITY, COMMIT, PREPARED)
 *         5 byte  slot (0 or 1)
 *         6 short zero
 *         8 long  step
 *        16 long  key the value was written under
 *        24 int   payload length
 *        28 int   CRC32C of bytes [0, 28) and the payload
 *        32       payload, then zeros up to the value size
 * </pre>
 */
final class EntryFrame {
  static final int MAGIC = 0x45534656; // "VFSE" little-endian
  static final int HEADER = 32;
  private static final int KIND = 4;
  private static final int SLOT = 5;
  private static final int STEP = 8;
  private static final int KEY = 16;
  private static final int LENGTH = 24;
  private static final int CRC = 28;

  /** A chunk of a tensor's fp32 parameters. */
  static final byte PARAMS = 1;
  /** A chunk of the serialised {@link io.vitfleet.paramstore.OptimizerState}. */
  static final byte STATE = 2;
  /** The XOR of a slot's padded payloads, which rebuilds any one lost entry of the slot. */
  static final byte PARITY = 3;
  /** A commit record (see {@link CommitRecord}). */
  static final byte COMMIT = 4;
  /** The record of the staged step, durable before the shard votes prepared (see {@link ShardStore#stage}). */
  static final byte PREPARED = 5;

  private EntryFrame() {}

  /** A value of {@code valueSize} bytes holding {@code payload[0 .. length)} under the given tag. */
  static byte[] encode(int valueSize, byte kind, int slot, long step, long key, byte[] payload, int length) {
    return encodeInto(new byte[valueSize], 0, kind, slot, step, key, payload, length);
  }

  /**
   * Encodes into {@code v} (all of it is the value), reusing a buffer: {@code used} is the payload length it held
   * last ({@code 0} for a zeroed buffer), whose bytes beyond the new payload are cleared so the padding stays zero.
   */
  static byte[] encodeInto(byte[] v, int used, byte kind, int slot, long step, long key, byte[] payload,
                           int length) {
    if (HEADER + length > v.length) {
      throw new IllegalArgumentException("payload of " + length + " bytes does not fit a value of " + v.length);
    }
    if (used > length) {
      Arrays.fill(v, HEADER + length, HEADER + used, (byte) 0);
    }
    ByteBuffer b = ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(0, MAGIC);
    b.put(KIND, kind);
    b.put(SLOT, (byte) slot);
    b.putLong(STEP, step);
    b.putLong(KEY, key);
    b.putInt(LENGTH, length);
    System.arraycopy(payload, 0, v, HEADER, length);
    b.putInt(CRC, crc(v, length));
    return v;
  }

  /** CRC32C of the header before the CRC field and of the payload. */
  private static int crc(byte[] v, int length) {
    CRC32C c = new CRC32C();
    c.update(v, 0, CRC);
    c.update(v, HEADER, length);
    return (int) c.getValue();
  }

  /** CRC32C of a payload alone: what the slot digest and parity rebuilds compare. */
  static int payloadCrc(byte[] payload, int offset, int length) {
    CRC32C c = new CRC32C();
    c.update(payload, offset, length);
    return (int) c.getValue();
  }

  /**
   * Why {@code v} is not a good value of the given tag, or null if it is. {@code expectedLength} < 0 accepts any
   * length that fits.
   */
  static String check(byte[] v, int valueSize, byte kind, int slot, long step, long key, int expectedLength) {
    if (v == null) {
      return "missing";
    }
    if (v.length != valueSize) {
      return "has " + v.length + " bytes, expected " + valueSize;
    }
    ByteBuffer b = ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN);
    int length = b.getInt(LENGTH);
    if (b.getInt(0) != MAGIC || length < 0 || HEADER + length > valueSize) {
      return "has no valid header";
    }
    if (b.getInt(CRC) != crc(v, length)) {
      return "fails its CRC32C (torn or corrupt)";
    }
    if (b.get(KIND) != kind || b.getLong(KEY) != key) {
      return "holds kind " + b.get(KIND) + " of key 0x" + Long.toHexString(b.getLong(KEY)) + ", expected kind "
          + kind + " of key 0x" + Long.toHexString(key);
    }
    if (step >= 0 && (b.getLong(STEP) != step || b.get(SLOT) != slot)) {
      return "belongs to step " + b.getLong(STEP) + " slot " + b.get(SLOT) + ", expected step " + step + " slot "
          + slot;
    }
    if (expectedLength >= 0 && length != expectedLength) {
      return "holds " + length + " payload bytes, expected " + expectedLength;
    }
    return null;
  }

  static long step(byte[] v) {
    return ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN).getLong(STEP);
  }

  static int slot(byte[] v) {
    return v[SLOT];
  }

  static int length(byte[] v) {
    return ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN).getInt(LENGTH);
  }
}
