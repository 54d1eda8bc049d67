package io.vitfleet.feeder.augment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ImageHeaderTest {
  @Test
  void shouldReadTheSizeOfAPngAndAJpeg() {
    byte[] rgb = TestImages.smooth(37, 53, 1);
    assertEquals(new ImageHeader(ImageHeader.Format.PNG, 37, 53), ImageHeader.read(TestImages.png(rgb, 37, 53)));
    assertEquals(new ImageHeader(ImageHeader.Format.JPEG, 37, 53),
        ImageHeader.read(TestImages.jpeg(rgb, 37, 53, 0.9f)));
  }

  @Test
  void shouldRejectBytesThatAreNeitherFormatNamingWhatTheyStartWith() {
    ImageFormatException e = assertThrows(ImageFormatException.class,
        () -> ImageHeader.read(new byte[] {'G', 'I', 'F', '8', '9', 'a'}));
    assertTrue(e.getMessage().contains("47494638"), e.getMessage());
    assertThrows(ImageFormatException.class, () -> ImageHeader.read(new byte[0]));
  }

  @Test
  void shouldRejectAJpegCutBeforeItsFrameHeader() {
    byte[] jpeg = TestImages.jpeg(TestImages.smooth(20, 20, 2), 20, 20, 0.9f);
    assertThrows(ImageFormatException.class, () -> ImageHeader.read(Arrays.copyOf(jpeg, 30)));
  }
}
