package io.vitfleet.protocol.frame;

import java.nio.ByteOrder;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Flyweight over the header of one data-plane frame: the single source of truth for the frame layout. A frame is
 * this fixed-size header followed by {@link #payloadLength()} bytes of one chunk of a tensor. All fields are
 * little-endian. The CRC32C covers every header byte except the CRC field itself, and the payload (see
 * {@link FrameChecksum}).
 *
 * <pre>
 * offset size field
 *      0    2 magic 0x4656 ("VF")
 *      2    1 version (1)
 *      3    1 kind (FrameKind code)
 *      4    1 dtype (DType code)
 *      5    1 rank (0..8)
 *      6    2 reserved, 0
 *      8    8 job id (the job fingerprint)
 *     16    8 step
 *     24    4 plan version
 *     28    4 microbatch (activations, images, labels) or group (weight-gradient sums)
 *     32    4 stage
 *     36    4 tensor id (which tensor of the step: parameter chunk, activation slot, ...)
 *     40    8 tensor bytes (the whole tensor, = product(shape) * dtype size)
 *     48    4 chunk index
 *     52    4 chunk count
 *     56    4 chunk stride (payload bytes of every chunk but the last; chunk i starts at i * stride)
 *     60    4 payload length (bytes after the header)
 *     64    4 CRC32C
 *     68    4 reserved, 0
 *     72   32 shape: 8 x int32, dims beyond rank are 0
 *    104      payload
 * </pre>
 *
 * <p>One instance is wrapped over many frames in turn: no allocation per frame.
 */
public final class FrameHeader {
  public static final short MAGIC = 0x4656;
  public static final byte VERSION = 1;
  /** Most dimensions a tensor may have; ViT tensors need at most 4. */
  public static final int MAX_RANK = 8;

  public static final int MAGIC_OFFSET = 0;
  public static final int VERSION_OFFSET = 2;
  public static final int KIND_OFFSET = 3;
  public static final int DTYPE_OFFSET = 4;
  public static final int RANK_OFFSET = 5;
  public static final int RESERVED_1_OFFSET = 6;
  public static final int JOB_ID_OFFSET = 8;
  public static final int STEP_OFFSET = 16;
  public static final int PLAN_VERSION_OFFSET = 24;
  public static final int MICROBATCH_OR_GROUP_OFFSET = 28;
  public static final int STAGE_OFFSET = 32;
  public static final int TENSOR_ID_OFFSET = 36;
  public static final int TENSOR_BYTES_OFFSET = 40;
  public static final int CHUNK_INDEX_OFFSET = 48;
  public static final int CHUNK_COUNT_OFFSET = 52;
  public static final int CHUNK_STRIDE_OFFSET = 56;
  public static final int PAYLOAD_LENGTH_OFFSET = 60;
  public static final int CRC_OFFSET = 64;
  public static final int RESERVED_2_OFFSET = 68;
  public static final int SHAPE_OFFSET = 72;
  /** Header bytes; the payload starts here. A multiple of 8, so float and long payloads stay aligned. */
  public static final int LENGTH = SHAPE_OFFSET + MAX_RANK * Integer.BYTES;

  private static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;

  private DirectBuffer buffer;
  private MutableDirectBuffer mutableBuffer;
  private int offset;

  /** Wraps a frame for reading; {@code offset} is where the header starts. */
  public FrameHeader wrap(DirectBuffer buffer, int offset) {
    this.buffer = buffer;
    this.mutableBuffer = buffer instanceof MutableDirectBuffer m ? m : null;
    this.offset = offset;
    return this;
  }

  /** Wraps a frame for writing. */
  public FrameHeader wrap(MutableDirectBuffer buffer, int offset) {
    this.buffer = buffer;
    this.mutableBuffer = buffer;
    this.offset = offset;
    return this;
  }

  public DirectBuffer buffer() {
    return buffer;
  }

  public int offset() {
    return offset;
  }

  /** Offset of the payload in {@link #buffer()}. */
  public int payloadOffset() {
    return offset + LENGTH;
  }

  /** Writes magic, version and zeroed reserved fields: call first when building a frame. */
  public FrameHeader writeFixedFields() {
    mutableBuffer.putShort(offset + MAGIC_OFFSET, MAGIC, ORDER);
    mutableBuffer.putByte(offset + VERSION_OFFSET, VERSION);
    mutableBuffer.putShort(offset + RESERVED_1_OFFSET, (short) 0, ORDER);
    mutableBuffer.putInt(offset + RESERVED_2_OFFSET, 0, ORDER);
    return this;
  }

  public short magic() {
    return buffer.getShort(offset + MAGIC_OFFSET, ORDER);
  }

  public byte version() {
    return buffer.getByte(offset + VERSION_OFFSET);
  }

  public byte kindCode() {
    return buffer.getByte(offset + KIND_OFFSET);
  }

  /** The kind, or null when the code is unknown. */
  public FrameKind kind() {
    return FrameKind.fromCode(kindCode());
  }

  public FrameHeader kind(FrameKind kind) {
    mutableBuffer.putByte(offset + KIND_OFFSET, kind.code());
    return this;
  }

  public byte dtypeCode() {
    return buffer.getByte(offset + DTYPE_OFFSET);
  }

  /** The dtype, or null when the code is unknown. */
  public DType dtype() {
    return DType.fromCode(dtypeCode());
  }

  public FrameHeader dtype(DType dtype) {
    mutableBuffer.putByte(offset + DTYPE_OFFSET, dtype.code());
    return this;
  }

  public int rank() {
    return buffer.getByte(offset + RANK_OFFSET) & 0xFF;
  }

  public long jobId() {
    return buffer.getLong(offset + JOB_ID_OFFSET, ORDER);
  }

  public FrameHeader jobId(long jobId) {
    mutableBuffer.putLong(offset + JOB_ID_OFFSET, jobId, ORDER);
    return this;
  }

  public long step() {
    return buffer.getLong(offset + STEP_OFFSET, ORDER);
  }

  public FrameHeader step(long step) {
    mutableBuffer.putLong(offset + STEP_OFFSET, step, ORDER);
    return this;
  }

  public int planVersion() {
    return buffer.getInt(offset + PLAN_VERSION_OFFSET, ORDER);
  }

  public FrameHeader planVersion(int planVersion) {
    mutableBuffer.putInt(offset + PLAN_VERSION_OFFSET, planVersion, ORDER);
    return this;
  }

  public int microbatchOrGroup() {
    return buffer.getInt(offset + MICROBATCH_OR_GROUP_OFFSET, ORDER);
  }

  public FrameHeader microbatchOrGroup(int microbatchOrGroup) {
    mutableBuffer.putInt(offset + MICROBATCH_OR_GROUP_OFFSET, microbatchOrGroup, ORDER);
    return this;
  }

  public int stage() {
    return buffer.getInt(offset + STAGE_OFFSET, ORDER);
  }

  public FrameHeader stage(int stage) {
    mutableBuffer.putInt(offset + STAGE_OFFSET, stage, ORDER);
    return this;
  }

  public int tensorId() {
    return buffer.getInt(offset + TENSOR_ID_OFFSET, ORDER);
  }

  public FrameHeader tensorId(int tensorId) {
    mutableBuffer.putInt(offset + TENSOR_ID_OFFSET, tensorId, ORDER);
    return this;
  }

  public long tensorBytes() {
    return buffer.getLong(offset + TENSOR_BYTES_OFFSET, ORDER);
  }

  public FrameHeader tensorBytes(long tensorBytes) {
    mutableBuffer.putLong(offset + TENSOR_BYTES_OFFSET, tensorBytes, ORDER);
    return this;
  }

  public int chunkIndex() {
    return buffer.getInt(offset + CHUNK_INDEX_OFFSET, ORDER);
  }

  public FrameHeader chunkIndex(int chunkIndex) {
    mutableBuffer.putInt(offset + CHUNK_INDEX_OFFSET, chunkIndex, ORDER);
    return this;
  }

  public int chunkCount() {
    return buffer.getInt(offset + CHUNK_COUNT_OFFSET, ORDER);
  }

  public FrameHeader chunkCount(int chunkCount) {
    mutableBuffer.putInt(offset + CHUNK_COUNT_OFFSET, chunkCount, ORDER);
    return this;
  }

  public int chunkStride() {
    return buffer.getInt(offset + CHUNK_STRIDE_OFFSET, ORDER);
  }

  public FrameHeader chunkStride(int chunkStride) {
    mutableBuffer.putInt(offset + CHUNK_STRIDE_OFFSET, chunkStride, ORDER);
    return this;
  }

  public int payloadLength() {
    return buffer.getInt(offset + PAYLOAD_LENGTH_OFFSET, ORDER);
  }

  public FrameHeader payloadLength(int payloadLength) {
    mutableBuffer.putInt(offset + PAYLOAD_LENGTH_OFFSET, payloadLength, ORDER);
    return this;
  }

  public int crc() {
    return buffer.getInt(offset + CRC_OFFSET, ORDER);
  }

  public FrameHeader crc(int crc) {
    mutableBuffer.putInt(offset + CRC_OFFSET, crc, ORDER);
    return this;
  }

  /** Dimension {@code i} of the shape (0 beyond the rank). */
  public int dim(int i) {
    return buffer.getInt(offset + SHAPE_OFFSET + i * Integer.BYTES, ORDER);
  }

  /** Writes rank and shape; the unused dims are zeroed so the CRC covers a canonical header. */
  public FrameHeader shape(int[] dims, int rank) {
    if (rank < 0 || rank > MAX_RANK) {
      throw new IllegalArgumentException("rank " + rank + " is outside 0.." + MAX_RANK);
    }
    mutableBuffer.putByte(offset + RANK_OFFSET, (byte) rank);
    for (int i = 0; i < MAX_RANK; i++) {
      mutableBuffer.putInt(offset + SHAPE_OFFSET + i * Integer.BYTES, i < rank ? dims[i] : 0, ORDER);
    }
    return this;
  }

  /** Number of elements of the shape, or -1 when a dim is negative or the product overflows a long. */
  public long elementCount() {
    int rank = rank();
    long n = 1;
    for (int i = 0; i < rank; i++) {
      int d = dim(i);
      if (d < 0 || (d != 0 && n > Long.MAX_VALUE / d)) {
        return -1;
      }
      n *= d;
    }
    return n;
  }
}
