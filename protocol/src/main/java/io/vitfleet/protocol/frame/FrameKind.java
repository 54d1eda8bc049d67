package io.vitfleet.protocol.frame;

/**
 * What a data-plane frame carries, so a receiver can route a completed tensor without looking at its contents. The
 * codes are part of the wire format: never renumber, only append.
 */
public enum FrameKind {
  /** Forward activations from stage s to stage s + 1. */
  ACTIVATION(1),
  /** Activation gradients from stage s + 1 back to stage s. */
  ACTIVATION_GRAD(2),
  /** A worker's weight-gradient sum of one accumulation group, sent to the shard owning the chunk. */
  WEIGHT_GRAD_GROUP_SUM(3),
  /** Committed parameters of a chunk, from a shard to the workers of the stage that uses them. */
  PARAMETERS(4),
  /** A microbatch of images, from the feeder to stage 0. */
  IMAGES(5),
  /** A microbatch of labels, from the feeder to the last stage. */
  LABELS(6);

  private static final FrameKind[] BY_CODE = new FrameKind[7];

  static {
    for (FrameKind k : values()) {
      BY_CODE[k.code] = k;
    }
  }

  private final byte code;

  FrameKind(int code) {
    this.code = (byte) code;
  }

  public byte code() {
    return code;
  }

  /** The kind with this wire code, or null when the code is unknown (the frame is then malformed). */
  public static FrameKind fromCode(int code) {
    return code > 0 && code < BY_CODE.length ? BY_CODE[code] : null;
  }
}
