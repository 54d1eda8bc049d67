package io.vitfleet.protocol.frame;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class FrameHeaderTest {

  @Test
  void headerIs104BytesSoPayloadsStay8ByteAligned() {
    assertEquals(104, FrameHeader.LENGTH);
    assertEquals(0, FrameHeader.LENGTH % 8);
  }

  @Test
  void everyFieldReadsBackWhatWasWritten() {
    UnsafeBuffer buffer = new UnsafeBuffer(new byte[FrameHeader.LENGTH]);
    FrameHeader h = new FrameHeader().wrap(buffer, 0);
    h.writeFixedFields().kind(FrameKind.WEIGHT_GRAD_GROUP_SUM).dtype(DType.BF16).shape(new int[] {3, 5, 7}, 3)
        .jobId(0x1122334455667788L).step(123_456_789_012L).planVersion(42).microbatchOrGroup(9).stage(3)
        .tensorId(77).tensorBytes(210).chunkIndex(2).chunkCount(5).chunkStride(48).payloadLength(18).crc(-5);

    FrameHeader r = new FrameHeader().wrap(buffer, 0);
    assertEquals(FrameHeader.MAGIC, r.magic());
    assertEquals(FrameHeader.VERSION, r.version());
    assertEquals(FrameKind.WEIGHT_GRAD_GROUP_SUM, r.kind());
    assertEquals(DType.BF16, r.dtype());
    assertEquals(3, r.rank());
    assertEquals(5, r.dim(1));
    assertEquals(0, r.dim(3));
    assertEquals(105, r.elementCount());
    assertEquals(0x1122334455667788L, r.jobId());
    assertEquals(123_456_789_012L, r.step());
    assertEquals(42, r.planVersion());
    assertEquals(9, r.microbatchOrGroup());
    assertEquals(3, r.stage());
    assertEquals(77, r.tensorId());
    assertEquals(210, r.tensorBytes());
    assertEquals(2, r.chunkIndex());
    assertEquals(5, r.chunkCount());
    assertEquals(48, r.chunkStride());
    assertEquals(18, r.payloadLength());
    assertEquals(-5, r.crc());
  }

  @Test
  void fieldsAreLittleEndianAtTheDocumentedOffsets() {
    ByteBuffer bytes = ByteBuffer.allocate(FrameHeader.LENGTH).order(ByteOrder.LITTLE_ENDIAN);
    new FrameHeader().wrap(new UnsafeBuffer(bytes), 0).writeFixedFields().jobId(0x0102030405060708L).step(9)
        .planVersion(10).shape(new int[] {11, 12}, 2);
    assertEquals(0x08, bytes.get(FrameHeader.JOB_ID_OFFSET));
    assertEquals(0x0102030405060708L, bytes.getLong(8));
    assertEquals(9, bytes.getLong(16));
    assertEquals(10, bytes.getInt(24));
    assertEquals(2, bytes.get(5));
    assertEquals(12, bytes.getInt(76));
    assertEquals(0x4656, bytes.getShort(0));
  }

  @Test
  void aShapeOfMoreThanEightDimsIsRefused() {
    FrameHeader h = new FrameHeader().wrap(new UnsafeBuffer(new byte[FrameHeader.LENGTH]), 0);
    assertThrows(IllegalArgumentException.class, () -> h.shape(new int[9], 9));
  }

  @Test
  void anOverflowingShapeHasNoElementCount() {
    FrameHeader h = new FrameHeader().wrap(new UnsafeBuffer(new byte[FrameHeader.LENGTH]), 0);
    h.shape(new int[] {Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE}, 3);
    assertEquals(-1, h.elementCount());
  }
}
