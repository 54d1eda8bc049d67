package io.vitfleet.feeder.source;

/** The shape of a decoded image: height x width x channels, u8 pixels in HWC order. */
public record ImageShape(int height, int width, int channels) {
  public ImageShape {
    if (height < 1 || width < 1 || channels < 1 || channels > 4) {
      throw new IllegalArgumentException("image shape must have height, width >= 1 and 1..4 channels, not "
          + height + "x" + width + "x" + channels);
    }
  }

  /** height * width * channels: the bytes of the raw pixels. */
  public long pixels() {
    return (long) height * width * channels;
  }

  /** Parses {@code HxWxC}, e.g. {@code 224x224x3}. */
  public static ImageShape parse(String text) {
    String[] parts = text.trim().split("x");
    if (parts.length != 3) {
      throw new IllegalArgumentException("image shape '" + text + "' is not HxWxC (e.g. 28x28x1 or 224x224x3)");
    }
    try {
      return new ImageShape(Integer.parseInt(parts[0]), Integer.parseInt(parts[1]), Integer.parseInt(parts[2]));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("image shape '" + text + "' is not HxWxC (e.g. 28x28x1 or 224x224x3)", e);
    }
  }

  @Override
  public String toString() {
    return height + "x" + width + "x" + channels;
  }
}
