package io.vitfleet.feeder.synthetic;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.vitfleet.feeder.ledger.ImageValidator;
import io.vitfleet.feeder.source.ImageFormat;
import io.vitfleet.feeder.source.ImageShape;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PngEncoderTest {
  @ParameterizedTest(name = "{0}x{1}x{2}")
  @CsvSource({"28, 28, 1", "5, 7, 3", "4, 3, 4", "2, 9, 2", "200, 120, 3"})
  void shouldEncodePixelsThatAStandardDecoderReadsBackExactly(int height, int width, int channels)
      throws IOException {
    byte[] pixels = new byte[height * width * channels];
    new SplittableRandom(height * 31 + width).nextBytes(pixels);
    byte[] png = PngEncoder.encode(pixels, 0, height, width, channels);

    assertEquals(ImageFormat.PNG, ImageFormat.sniff(png));
    assertEquals(new ImageShape(height, width, channels), ImageFormat.shapeOf(png));
    assertNull(ImageValidator.structural().problem(ImageFormat.PNG, png));
    BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
    assertEquals(width, image.getWidth());
    assertEquals(height, image.getHeight());
    Raster raster = image.getRaster();
    assertEquals(channels, raster.getNumBands());
    byte[] decoded = new byte[pixels.length];
    int[] pixel = new int[channels];
    for (int y = 0, p = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        raster.getPixel(x, y, pixel);
        for (int c = 0; c < channels; c++) {
          decoded[p++] = (byte) pixel[c];
        }
      }
    }
    assertArrayEquals(pixels, decoded);
  }
}
