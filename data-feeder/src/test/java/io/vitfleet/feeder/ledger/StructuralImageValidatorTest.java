package io.vitfleet.feeder.ledger;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitfleet.feeder.source.ImageFormat;
import io.vitfleet.feeder.source.ImageShape;
import io.vitfleet.feeder.synthetic.PngEncoder;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class StructuralImageValidatorTest {
  private final ImageValidator validator = ImageValidator.structural();
  private final byte[] png = ImageFixtures.encode("png", 20, 12);
  private final byte[] jpeg = ImageFixtures.encode("jpeg", 20, 12);

  @Test
  void shouldAcceptPngAndJpegFromAStandardEncoder() {
    assertNull(validator.problem(ImageFormat.PNG, png));
    assertNull(validator.problem(ImageFormat.JPEG, jpeg));
    assertNull(validator.problem(ImageFormat.PNG, PngEncoder.encode(new byte[300], 0, 10, 10, 3)));
    assertTrue(ImageFormat.shapeOf(jpeg).equals(new ImageShape(12, 20, 3)), String.valueOf(ImageFormat.shapeOf(jpeg)));
  }

  @Test
  void shouldRejectATruncatedPng() {
    String problem = validator.problem(ImageFormat.PNG, Arrays.copyOf(png, png.length - 13));
    assertNotNull(problem);
  }

  @Test
  void shouldRejectAPngWithAnyByteChangedAfterItsSignature() {
    for (int p = 8; p < png.length; p++) {
      byte[] damaged = png.clone();
      damaged[p] ^= 0x04;
      assertNotNull(validator.problem(ImageFormat.PNG, damaged), "byte " + p + " of " + png.length);
    }
  }

  @Test
  void shouldRejectAJpegCutBeforeItsEnd() {
    String problem = validator.problem(ImageFormat.JPEG, Arrays.copyOf(jpeg, jpeg.length - 2));
    assertTrue(problem != null && problem.contains("end-of-image"), problem);
  }

  @Test
  void shouldRejectAJpegWhoseHeaderIsCutShort() {
    assertNotNull(validator.problem(ImageFormat.JPEG, Arrays.copyOf(jpeg, 40)));
  }

  @Test
  void shouldRejectBytesThatAreNeitherPngNorJpeg() {
    String problem = validator.problem(ImageFormat.UNKNOWN, "GIF89a...".getBytes());
    assertTrue(problem != null && problem.contains("neither PNG nor JPEG (it starts with 0x47494638)"), problem);
    assertNotNull(validator.problem(ImageFormat.UNKNOWN, new byte[0]));
  }

  @Test
  void shouldNeverThrowOnRandomDamage() {
    SplittableRandom random = new SplittableRandom(11);
    for (int i = 0; i < 2_000; i++) {
      byte[] source = random.nextBoolean() ? png : jpeg;
      byte[] damaged = Arrays.copyOf(source, 1 + random.nextInt(source.length + 20));
      for (int k = random.nextInt(6); k >= 0; k--) {
        damaged[random.nextInt(damaged.length)] = (byte) random.nextInt();
      }
      validator.problem(ImageFormat.sniff(damaged), damaged);
    }
  }
}
