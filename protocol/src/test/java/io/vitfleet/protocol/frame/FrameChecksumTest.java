package io.vitfleet.protocol.frame;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import java.util.zip.CRC32C;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class FrameChecksumTest {
  private static final int PAYLOAD = 200_000;

  @Test
  void arrayByteBufferAndRawAddressBuffersGiveTheSameCrcAsTheJdkOverTheSameBytes() {
    byte[] frame = randomFrame();
    int expected = jdkCrc(frame);

    UnsafeBuffer onArray = new UnsafeBuffer(new byte[frame.length + 16], 16, frame.length);
    onArray.putBytes(0, frame);
    ByteBuffer direct = ByteBuffer.allocateDirect(frame.length + 64);
    UnsafeBuffer onByteBuffer = new UnsafeBuffer(direct, 64, frame.length);
    onByteBuffer.putBytes(0, frame);
    ByteBuffer rawMemory = BufferUtil.allocateDirectAligned(frame.length, 64);
    UnsafeBuffer onAddress = new UnsafeBuffer(BufferUtil.address(rawMemory), frame.length);
    onAddress.putBytes(0, frame);

    FrameChecksum checksum = new FrameChecksum();
    assertEquals(expected, checksum.compute(onArray, 0, PAYLOAD));
    assertEquals(expected, checksum.compute(onByteBuffer, 0, PAYLOAD));
    assertEquals(expected, checksum.compute(onAddress, 0, PAYLOAD));
    assertEquals(expected, checksum.compute(onByteBuffer, 0, onArray, FrameHeader.LENGTH, PAYLOAD));
  }

  @Test
  void theCrcFieldItselfIsNotCoveredButEveryOtherByteIs() {
    byte[] frame = randomFrame();
    UnsafeBuffer buffer = new UnsafeBuffer(frame);
    FrameChecksum checksum = new FrameChecksum();
    int crc = checksum.compute(buffer, 0, PAYLOAD);
    buffer.putInt(FrameHeader.CRC_OFFSET, 12345);
    assertEquals(crc, checksum.compute(buffer, 0, PAYLOAD));
    buffer.putByte(FrameHeader.RESERVED_2_OFFSET, (byte) 1);
    assertNotEquals(crc, checksum.compute(buffer, 0, PAYLOAD));
  }

  private static byte[] randomFrame() {
    byte[] frame = new byte[FrameHeader.LENGTH + PAYLOAD];
    new SplittableRandom(7).nextBytes(frame);
    return frame;
  }

  private static int jdkCrc(byte[] frame) {
    CRC32C crc = new CRC32C();
    crc.update(frame, 0, FrameHeader.CRC_OFFSET);
    crc.update(frame, FrameHeader.RESERVED_2_OFFSET, frame.length - FrameHeader.RESERVED_2_OFFSET);
    return (int) crc.getValue();
  }
}
