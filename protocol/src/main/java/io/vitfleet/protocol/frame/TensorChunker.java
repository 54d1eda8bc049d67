package io.vitfleet.protocol.frame;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Splits a tensor into frames of at most {@link #maxFrameLength()} bytes, header included. A link sets the frame
 * length below what its transport delivers as one message (Aeron: term length / 8, and for zero-copy claims the
 * MTU payload). Chunk i carries tensor bytes [i * stride, min((i + 1) * stride, tensorBytes)); a tensor of 0 bytes
 * is one chunk with an empty payload, so every tensor announces itself.
 *
 * <p>Two ways to write a chunk: a whole frame (header, payload, CRC) into one buffer, for a claimed region of a
 * term buffer; or the header alone with the CRC computed over the payload where it lies, for a vectored send that
 * copies the payload once. Not thread-safe; no allocation per chunk.
 */
public final class TensorChunker {
  private final int maxFrameLength;
  private final int stride;
  private final FrameHeader header = new FrameHeader();
  private final FrameChecksum checksum = new FrameChecksum();

  public TensorChunker(int maxFrameLength) {
    if (maxFrameLength <= FrameHeader.LENGTH) {
      throw new IllegalArgumentException("frame length " + maxFrameLength + " leaves no room for a payload after the "
          + FrameHeader.LENGTH + "-byte header; raise the link's MTU or term length");
    }
    this.maxFrameLength = maxFrameLength;
    this.stride = maxFrameLength - FrameHeader.LENGTH;
  }

  public int maxFrameLength() {
    return maxFrameLength;
  }

  /** Payload bytes of every chunk but the last. */
  public int stride() {
    return stride;
  }

  /** Chunks needed for a tensor of this many bytes (at least 1). */
  public int chunkCount(long tensorBytes) {
    long n = Math.max(1, (tensorBytes + stride - 1) / stride);
    if (n > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(tensorBytes + " bytes need more than 2^31 chunks of " + stride);
    }
    return (int) n;
  }

  /** Payload bytes of chunk {@code index}. */
  public int payloadLength(long tensorBytes, int index) {
    return (int) Math.min(stride, tensorBytes - (long) index * stride);
  }

  /** Frame bytes of chunk {@code index}: header plus payload. */
  public int frameLength(long tensorBytes, int index) {
    return FrameHeader.LENGTH + payloadLength(tensorBytes, index);
  }

  /**
   * Writes chunk {@code index} of the tensor in {@code src[srcOffset, srcOffset + tensorBytes)} as a whole frame at
   * {@code dst[dstOffset]} and returns its length.
   */
  public int writeFrame(TensorDescriptor tensor, DirectBuffer src, int srcOffset, int index,
      MutableDirectBuffer dst, int dstOffset) {
    long tensorBytes = checkedTensorBytes(tensor, src, srcOffset);
    int payload = payloadLength(tensorBytes, index);
    header.wrap(dst, dstOffset);
    writeHeaderFields(tensor, tensorBytes, index, payload);
    dst.putBytes(dstOffset + FrameHeader.LENGTH, src, srcOffset + index * stride, payload);
    header.crc(checksum.compute(dst, dstOffset, payload));
    return FrameHeader.LENGTH + payload;
  }

  /**
   * Writes only the header of chunk {@code index} at {@code dst[dstOffset]}, its CRC computed over the payload
   * where it lies in {@code src}; returns the payload's offset in {@code src} (its length is
   * {@link #payloadLength}).
   */
  public int writeHeader(TensorDescriptor tensor, DirectBuffer src, int srcOffset, int index,
      MutableDirectBuffer dst, int dstOffset) {
    long tensorBytes = checkedTensorBytes(tensor, src, srcOffset);
    int payload = payloadLength(tensorBytes, index);
    int payloadOffset = srcOffset + index * stride;
    header.wrap(dst, dstOffset);
    writeHeaderFields(tensor, tensorBytes, index, payload);
    header.crc(checksum.compute(dst, dstOffset, src, payloadOffset, payload));
    return payloadOffset;
  }

  private static long checkedTensorBytes(TensorDescriptor tensor, DirectBuffer src, int srcOffset) {
    long tensorBytes = tensor.tensorBytes();
    if (srcOffset < 0 || srcOffset + tensorBytes > src.capacity()) {
      throw new IllegalArgumentException("the tensor's " + tensorBytes + " bytes at offset " + srcOffset
          + " do not fit its source buffer of " + src.capacity() + " bytes; check the descriptor's shape and dtype");
    }
    return tensorBytes;
  }

  private void writeHeaderFields(TensorDescriptor tensor, long tensorBytes, int index, int payload) {
    int count = chunkCount(tensorBytes);
    if (index < 0 || index >= count) {
      throw new IndexOutOfBoundsException("chunk " + index + " of a tensor of " + count + " chunks");
    }
    tensor.writeTo(header);
    header.tensorBytes(tensorBytes)
        .chunkIndex(index)
        .chunkCount(count)
        .chunkStride(stride)
        .payloadLength(payload);
  }
}
