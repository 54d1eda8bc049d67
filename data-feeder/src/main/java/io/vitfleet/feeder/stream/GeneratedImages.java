package io.vitfleet.feeder.stream;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Objects;
import java.util.SplittableRandom;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * A small data set of encoded images computed from the sample index: every third sample a JPEG, the others PNGs, of
 * smooth colour patterns, with a label from the index. It needs no files, so the feeder's resume proof and tests can
 * run anywhere; encoding with javax.imageio keeps it independent of the TensorFlow decoders it feeds.
 */
public final class GeneratedImages implements EncodedDataset {
  private static final float JPEG_QUALITY = 0.9f;

  private final long size;
  private final int height;
  private final int width;
  private final int classes;

  public GeneratedImages(long size, int height, int width, int classes) {
    if (size < 1 || height < 1 || width < 1 || classes < 1) {
      throw new IllegalArgumentException("generated images: size, height, width and classes must be positive, not "
          + size + ", " + height + ", " + width + ", " + classes);
    }
    this.size = size;
    this.height = height;
    this.width = width;
    this.classes = classes;
  }

  @Override
  public long size() {
    return size;
  }

  @Override
  public int classes() {
    return classes;
  }

  @Override
  public int label(long index) {
    Objects.checkIndex(index, size);
    return (int) Math.floorMod(new SplittableRandom(index).nextLong(), (long) classes);
  }

  @Override
  public byte[] encoded(long index) {
    Objects.checkIndex(index, size);
    SplittableRandom random = new SplittableRandom(~index);
    double fx = 0.05 + 0.3 * random.nextDouble();
    double fy = 0.05 + 0.3 * random.nextDouble();
    int base = random.nextInt(1 << 24);
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        int r = (int) (127.5 + 127 * Math.sin(fx * x + (base & 0xff)));
        int g = (int) (127.5 + 127 * Math.sin(fy * y + ((base >> 8) & 0xff)));
        int b = (x * 7 + y * 13 + (base >> 16)) & 0xff;
        image.setRGB(x, y, (r << 16) | (g << 8) | b);
      }
    }
    return index % 3 == 0 ? encode(image, "jpeg", JPEG_QUALITY) : encode(image, "png", -1);
  }

  private static byte[] encode(BufferedImage image, String format, float quality) {
    try (ByteArrayOutputStream bytes = new ByteArrayOutputStream();
         MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
      ImageWriter writer = ImageIO.getImageWritersByFormatName(format).next();
      try {
        ImageWriteParam param = writer.getDefaultWriteParam();
        if (quality >= 0) {
          param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
          param.setCompressionQuality(quality);
        }
        writer.setOutput(out);
        writer.write(null, new IIOImage(image, null, null), param);
      } finally {
        writer.dispose();
      }
      out.flush();
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot encode a generated " + format + " image", e);
    }
  }

  @Override
  public String toString() {
    return "GeneratedImages[N=" + size + ", " + height + "x" + width + ", " + classes + " classes]";
  }
}
