package io.vitfleet.feeder.tfrecord;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TfRecordFormatTest {
  @Test
  void shouldComputeTheStandardCrc32cCheckValue() {
    byte[] check = "123456789".getBytes(StandardCharsets.US_ASCII);
    assertEquals(0xe3069283, TfRecordFormat.crc32c(check, 0, check.length));
  }

  @Test
  void shouldFrameARecordByteForByteAsTensorFlowDoes() {
    // Computed independently (bitwise CRC32C and TensorFlow's mask in Python).
    byte[] data = "hello tfrecord".getBytes(StandardCharsets.US_ASCII);
    assertEquals("0e00000000000000c5e5693f68656c6c6f2074667265636f72649f5b7622",
        HexFormat.of().formatHex(TfRecordFormat.frame(data)));
  }

  @Test
  void shouldUnmaskWhatItMasks() {
    SplittableRandom random = new SplittableRandom(1);
    for (int i = 0; i < 1000; i++) {
      int crc = random.nextInt();
      assertEquals(crc, TfRecordFormat.unmask(TfRecordFormat.mask(crc)));
    }
  }

  @Test
  void shouldReadTheLengthOfAGoodHeaderAndRejectADamagedOne() {
    byte[] header = TfRecordFormat.header(1234);
    assertEquals(1234, TfRecordFormat.headerLength(header, 0));
    header[3] ^= 0x10;
    assertEquals(-1, TfRecordFormat.headerLength(header, 0));
  }
}
