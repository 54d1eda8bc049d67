package io.vitfleet.feeder.augment;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.SplittableRandom;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/** Images made in the test, encoded with javax.imageio (independent of the TensorFlow decoders under test). */
final class TestImages {
  private TestImages() {
  }

  /** RGB pixels, HWC, every value random: the hardest case for a codec, and any mix-up of pixels shows. */
  static byte[] noise(int height, int width, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    byte[] rgb = new byte[height * width * 3];
    for (int i = 0; i < rgb.length; i++) {
      rgb[i] = (byte) random.nextInt(256);
    }
    return rgb;
  }

  /** RGB pixels, HWC, smooth gradients: what JPEG reproduces closely. */
  static byte[] smooth(int height, int width, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    double[] f = new double[6];
    for (int k = 0; k < f.length; k++) {
      f[k] = 0.02 + 0.05 * random.nextDouble();
    }
    byte[] rgb = new byte[height * width * 3];
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        for (int c = 0; c < 3; c++) {
          double v = 128 + 90 * Math.sin(f[c] * x + f[c + 3] * y + c);
          rgb[(y * width + x) * 3 + c] = (byte) Math.max(0, Math.min(255, (int) Math.round(v)));
        }
      }
    }
    return rgb;
  }

  static byte[] png(byte[] rgb, int height, int width) {
    return encode(image(rgb, height, width), "png", -1);
  }

  /** @param quality 0..1 */
  static byte[] jpeg(byte[] rgb, int height, int width, float quality) {
    return encode(image(rgb, height, width), "jpeg", quality);
  }

  private static BufferedImage image(byte[] rgb, int height, int width) {
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        int i = (y * width + x) * 3;
        image.setRGB(x, y, ((rgb[i] & 0xff) << 16) | ((rgb[i + 1] & 0xff) << 8) | (rgb[i + 2] & 0xff));
      }
    }
    return image;
  }

  private static byte[] encode(BufferedImage image, String format, float quality) {
    try (ByteArrayOutputStream bytes = new ByteArrayOutputStream();
         MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
      ImageWriter writer = ImageIO.getImageWritersByFormatName(format).next();
      ImageWriteParam param = writer.getDefaultWriteParam();
      if (quality >= 0) {
        param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
        param.setCompressionQuality(quality);
      }
      writer.setOutput(out);
      writer.write(null, new IIOImage(image, null, null), param);
      writer.dispose();
      out.flush();
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The u8 value a normalised float came from: x = (v + 1) * 127.5. */
  static int pixel(float normalised) {
    return Math.round((normalised + 1f) * 127.5f);
  }
}
