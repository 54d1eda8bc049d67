package io.vitfleet.protocol.frame;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;
import org.agrona.DirectBuffer;

/**
 * CRC32C of a frame: the header bytes before the CRC field, then everything from the reserved field after it to the
 * end of the payload. {@link CRC32C} is a JVM intrinsic (SSE4.2 / ARMv8 CRC instructions) on byte arrays and direct
 * ByteBuffers, so the bytes of a {@link DirectBuffer} are handed to it through a view of the buffer's own memory;
 * only a buffer wrapped over a raw address (neither array nor ByteBuffer) is copied, in blocks.
 *
 * <p>Not thread-safe: one per publisher or subscriber. Allocates only when it meets a ByteBuffer it has not seen
 * just before (a term buffer of a new log), never per frame.
 */
public final class FrameChecksum {
  /** Block size for buffers over raw addresses: large enough to amortise the call, small enough to stay in L1/L2. */
  private static final int SCRATCH_BYTES = 64 * 1024;

  private final CRC32C crc = new CRC32C();
  private ByteBuffer lastSource;
  private ByteBuffer lastView;
  private ByteBuffer scratch;

  /** CRC of the frame at {@code frameOffset} whose header says how long its payload is. */
  public int compute(DirectBuffer buffer, int frameOffset, int payloadLength) {
    crc.reset();
    update(buffer, frameOffset, FrameHeader.CRC_OFFSET);
    update(buffer, frameOffset + FrameHeader.RESERVED_2_OFFSET,
        FrameHeader.LENGTH - FrameHeader.RESERVED_2_OFFSET + payloadLength);
    return (int) crc.getValue();
  }

  /** CRC of a frame whose header and payload live in different buffers (a vectored send). */
  public int compute(DirectBuffer header, int headerOffset, DirectBuffer payload, int payloadOffset,
      int payloadLength) {
    crc.reset();
    update(header, headerOffset, FrameHeader.CRC_OFFSET);
    update(header, headerOffset + FrameHeader.RESERVED_2_OFFSET, FrameHeader.LENGTH - FrameHeader.RESERVED_2_OFFSET);
    update(payload, payloadOffset, payloadLength);
    return (int) crc.getValue();
  }

  private void update(DirectBuffer buffer, int index, int length) {
    byte[] array = buffer.byteArray();
    if (array != null) {
      crc.update(array, buffer.wrapAdjustment() + index, length);
      return;
    }
    ByteBuffer source = buffer.byteBuffer();
    if (source != null) {
      ByteBuffer view = viewOf(source);
      int from = buffer.wrapAdjustment() + index;
      view.limit(from + length).position(from);
      crc.update(view);
      return;
    }
    updateByCopy(buffer, index, length);
  }

  private ByteBuffer viewOf(ByteBuffer source) {
    if (source != lastSource) {
      lastSource = source;
      lastView = source.duplicate();
    }
    lastView.clear();
    return lastView;
  }

  private void updateByCopy(DirectBuffer buffer, int index, int length) {
    if (scratch == null) {
      scratch = ByteBuffer.allocateDirect(SCRATCH_BYTES);
    }
    int done = 0;
    while (done < length) {
      int n = Math.min(SCRATCH_BYTES, length - done);
      buffer.getBytes(index + done, scratch, 0, n);
      scratch.limit(n).position(0);
      crc.update(scratch);
      scratch.clear();
      done += n;
    }
  }
}
