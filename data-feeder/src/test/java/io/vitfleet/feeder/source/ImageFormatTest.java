package io.vitfleet.feeder.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vitfleet.feeder.synthetic.PngEncoder;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class ImageFormatTest {
  private static byte[] jpeg(int width, int height, int type) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(new BufferedImage(width, height, type), "jpeg", out);
    return out.toByteArray();
  }

  @Test
  void shouldRecognisePngAndJpegFromTheirFirstBytes() throws IOException {
    assertEquals(ImageFormat.PNG, ImageFormat.sniff(PngEncoder.encode(new byte[4], 0, 2, 2, 1)));
    assertEquals(ImageFormat.JPEG, ImageFormat.sniff(jpeg(3, 3, BufferedImage.TYPE_INT_RGB)));
    assertEquals(ImageFormat.UNKNOWN, ImageFormat.sniff("GIF89a".getBytes()));
    assertEquals(ImageFormat.UNKNOWN, ImageFormat.sniff(new byte[0]));
    assertEquals(ImageFormat.UNKNOWN, ImageFormat.sniff(null));
  }

  @Test
  void shouldReadTheShapeFromThePngOrJpegHeader() throws IOException {
    assertEquals(new ImageShape(5, 7, 3), ImageFormat.shapeOf(PngEncoder.encode(new byte[105], 0, 5, 7, 3)));
    assertEquals(new ImageShape(11, 13, 1), ImageFormat.shapeOf(jpeg(13, 11, BufferedImage.TYPE_BYTE_GRAY)));
    assertEquals(new ImageShape(11, 13, 3), ImageFormat.shapeOf(jpeg(13, 11, BufferedImage.TYPE_INT_RGB)));
    assertNull(ImageFormat.shapeOf(Arrays.copyOf(jpeg(13, 11, BufferedImage.TYPE_INT_RGB), 10)));
    assertNull(ImageFormat.shapeOf("not an image".getBytes()));
  }

  @Test
  void shouldParseAShapeWrittenAsHeightByWidthByChannels() {
    assertEquals(new ImageShape(224, 224, 3), ImageShape.parse("224x224x3"));
    assertEquals(150_528, ImageShape.parse("224x224x3").pixels());
    assertThrows(IllegalArgumentException.class, () -> ImageShape.parse("224x224"));
    assertThrows(IllegalArgumentException.class, () -> ImageShape.parse("0x4x1"));
  }
}
