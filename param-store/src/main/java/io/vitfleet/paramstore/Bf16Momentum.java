package io.vitfleet.paramstore;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;

/**
 * Step 6 of the chain: momentum without bias correction, stored in bfloat16. The update uses the float32 value
 * {@code m32 = momentum * m_bf16 + (1 - momentum) * u}; only its rounding to bfloat16 is stored, which halves the
 * optimizer's largest state.
 *
 * <p>Storage: a tensor's momentum is cut into blocks of {@link #BLOCK} elements (the last may be shorter, length
 * {@code len}), each an {@code int[ceil(len / 2)]} holding two bfloat16: int {@code j} holds element {@code j} in its
 * low 16 bits and element {@code j + ceil(len / 2)} in its high 16 bits. Why: the JIT (C2, JDK 17) vectorises loops
 * over ints and loops over floats, but neither loops that widen or narrow shorts nor float/int bit casts, and only
 * loops whose arrays all share one index. With this layout unpacking and packing are int-only loops indexing the
 * block and the scratch alike, and the bit cast between float32 and its int bits is a bulk copy through a buffer.
 * The serialised state and {@link OptimizerState#momentumBf16} use the plain element order.
 *
 * <p>The factored update ({@link FusedUpdate#momentumAndStep}) unpacks the ints in place, with vectors: one vector of
 * ints holds consecutive elements of both halves of the block, each half a contiguous range of the tensor.
 */
final class Bf16Momentum {
  /**
   * Elements per block: the update runs several loops over a block, so a block is long enough for each loop to
   * stream its arrays a while (4096 measured 6% slower), and short enough that its scratch (a few arrays of one
   * block) stays in the L2 cache.
   */
  static final int BLOCK = 16384;

  private final int[] low = new int[BLOCK / 2];
  private final int[] high = new int[BLOCK / 2];
  private final ByteBuffer cast = ByteBuffer.allocate(4 * BLOCK).order(ByteOrder.nativeOrder());
  private final IntBuffer castInts = cast.asIntBuffer();
  private final FloatBuffer castFloats = cast.asFloatBuffer();

  /** Zero momentum for a tensor of {@code size} elements, as blocks. */
  static int[][] allocate(int size) {
    int blocks = (size + BLOCK - 1) / BLOCK;
    int[][] out = new int[blocks][];
    for (int b = 0; b < blocks; b++) {
      out[b] = new int[(blockLength(size, b) + 1) / 2];
    }
    return out;
  }

  /** Elements in block {@code b} of a tensor of {@code size} elements. */
  static int blockLength(int size, int b) {
    return Math.min(BLOCK, size - b * BLOCK);
  }

  /** The stored bfloat16 bits of element {@code i} of a tensor of {@code size} elements. */
  static short get(int[][] blocks, int size, int i) {
    int b = i / BLOCK;
    int k = i - b * BLOCK;
    int h = (blockLength(size, b) + 1) >> 1;
    return (short) (k < h ? blocks[b][k] : blocks[b][k - h] >>> 16);
  }

  /** Stores bfloat16 bits {@code v} as element {@code i} of a tensor of {@code size} elements. */
  static void set(int[][] blocks, int size, int i, short v) {
    int b = i / BLOCK;
    int k = i - b * BLOCK;
    int h = (blockLength(size, b) + 1) >> 1;
    int[] block = blocks[b];
    if (k < h) {
      block[k] = (block[k] & 0xFFFF0000) | (v & 0xFFFF);
    } else {
      block[k - h] = (block[k - h] & 0xFFFF) | (v << 16);
    }
  }

  /** The bfloat16 bits of one block of {@code len} elements in element order, for I/O. */
  static void blockToBf16(int[] block, int len, short[] out) {
    int h = (len + 1) >> 1;
    for (int j = 0; j < h; j++) {
      out[j] = (short) block[j];
    }
    for (int j = 0; j < len - h; j++) {
      out[h + j] = (short) (block[j] >>> 16);
    }
  }

  /** Stores bfloat16 bits in element order as one block of {@code len} elements, for I/O. */
  static void blockFromBf16(short[] in, int len, int[] block) {
    int h = (len + 1) >> 1;
    for (int j = 0; j < h; j++) {
      int hi = h + j < len ? in[h + j] << 16 : 0;
      block[j] = (in[j] & 0xFFFF) | hi;
    }
  }

  /** The float32 momentum of one block of {@code len} elements into {@code out[0 .. len)}. */
  void unpack(int[] block, int len, float[] out) {
    int h = (len + 1) >> 1;
    for (int j = 0; j < h; j++) {
      int w = block[j];
      low[j] = w << 16;
      high[j] = w & 0xFFFF0000;
    }
    castInts.put(0, low, 0, h);
    castInts.put(h, high, 0, len - h);
    castFloats.get(0, out, 0, len);
  }

  /**
   * Stores one block of {@code len} elements from the float32 bits of its momentum: element {@code j} in
   * {@code lowBits[j]} and element {@code h + j} in {@code highBits[j]} ({@code h = ceil(len / 2)}), rounded to
   * bfloat16. One index for all three arrays and int operations only, so the JIT vectorises the loop.
   */
  static void pack(int[] lowBits, int[] highBits, int len, int[] block) {
    int h = (len + 1) >> 1;
    int pairs = len - h;
    for (int j = 0; j < pairs; j++) {
      block[j] = Bf16.roundBits(lowBits[j]) | (Bf16.roundBits(highBits[j]) << 16);
    }
    if (pairs < h) {
      block[h - 1] = Bf16.roundBits(lowBits[h - 1]);
    }
  }

  /** Stores the bfloat16 rounding of {@code m32[0 .. len)} as one block of {@code len} elements. */
  void pack(float[] m32, int len, int[] block) {
    int h = (len + 1) >> 1;
    castFloats.put(0, m32, 0, len);
    castInts.get(0, low, 0, h);
    castInts.get(h, high, 0, len - h);
    if (len - h < h) {
      high[h - 1] = 0;
    }
    for (int j = 0; j < h; j++) {
      block[j] = Bf16.roundBits(low[j]) | (Bf16.roundBits(high[j]) << 16);
    }
  }

  /** The float32 momentum held in the {@code shift} half (0: low 16 bits, 16: high) of {@code packed}. */
  static float unpack(int packed, int shift) {
    return Float.intBitsToFloat((packed << (16 - shift)) & 0xFFFF0000);
  }

  /** {@code m32 = momentum * previous + (1 - momentum) * u}, in that float32 order. */
  static float mix(float previous, float u, float momentum, float oneMinusMomentum) {
    return momentum * previous + oneMinusMomentum * u;
  }
}
