package io.vitfleet.model;

/**
 * A concrete model: a variant of the family with a patch size, an input size, and a head. {@code Ti/4} on 28x28
 * single-channel images with 10 classes is {@code ViTConfig.of("Ti/4", 28, 1, 10)}.
 */
public record ViTConfig(Variant variant, int patch, int image, int channels, int classes, HeadType head,
                        LossType loss) {

  public ViTConfig {
    if (patch <= 0) {
      throw new IllegalArgumentException("patch size must be positive, got " + patch);
    }
    if (image <= 0) {
      throw new IllegalArgumentException("image size must be positive, got " + image);
    }
    if (image % patch != 0) {
      throw new IllegalArgumentException("image size " + image + " is not divisible by the patch size " + patch
          + "; choose an image size that is a multiple of " + patch);
    }
    if (channels <= 0) {
      throw new IllegalArgumentException("channel count must be positive, got " + channels);
    }
    if (classes <= 0) {
      throw new IllegalArgumentException("class count must be positive, got " + classes);
    }
  }

  /**
   * Parses {@code NAME/PATCH} (e.g. {@code G/14}) and builds a config with a MAP head and softmax loss.
   */
  public static ViTConfig of(String nameWithPatch, int image, int channels, int classes) {
    return of(nameWithPatch, null, image, channels, classes, HeadType.MAP, LossType.SOFTMAX);
  }

  /**
   * Parses {@code NAME/PATCH} or {@code NAME}; {@code patchOverride}, when not null, replaces the patch of the name
   * (and is required when the name has none).
   */
  public static ViTConfig of(String nameWithPatch, Integer patchOverride, int image, int channels, int classes,
                             HeadType head, LossType loss) {
    String name = nameWithPatch.trim();
    Integer patch = patchOverride;
    int slash = name.indexOf('/');
    if (slash >= 0) {
      String p = name.substring(slash + 1);
      name = name.substring(0, slash);
      if (patch == null) {
        try {
          patch = Integer.parseInt(p);
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("bad patch size '" + p + "' in variant '" + nameWithPatch
              + "'; write it as NAME/PATCH, e.g. Ti/16");
        }
      }
    }
    if (patch == null) {
      throw new IllegalArgumentException("variant '" + nameWithPatch + "' has no patch size; write NAME/PATCH "
          + "(e.g. Ti/16) or pass --patch");
    }
    return new ViTConfig(Variant.named(name), patch, image, channels, classes, head, loss);
  }

  /** The paper's name of this model, e.g. {@code Ti/4}. */
  public String name() {
    return variant.name() + "/" + patch;
  }

  public int width() {
    return variant.width();
  }

  public int depth() {
    return variant.depth();
  }

  public int mlp() {
    return variant.mlp();
  }

  public int heads() {
    return variant.heads();
  }

  /** Patches per image (the encoder's sequence length, without a [class] token). */
  public int patches() {
    int side = image / patch;
    return side * side;
  }

  /** Tokens the encoder sees: patches, plus one for the token head. */
  public int tokens() {
    return patches() + (head == HeadType.TOKEN ? 1 : 0);
  }

  /** Elements of one flattened patch: patch * patch * channels. */
  public int patchDim() {
    return patch * patch * channels;
  }

  public ViTConfig withHead(HeadType h) {
    return new ViTConfig(variant, patch, image, channels, classes, h, loss);
  }

  public ViTConfig withLoss(LossType l) {
    return new ViTConfig(variant, patch, image, channels, classes, head, l);
  }

  /** A one-line description, also used to tell checkpoints of different models apart. */
  public String describe() {
    return name() + " image=" + image + " channels=" + channels + " classes=" + classes + " head=" + head.id()
        + " loss=" + loss.id() + " width=" + width() + " depth=" + depth() + " mlp=" + mlp() + " heads=" + heads();
  }
}
