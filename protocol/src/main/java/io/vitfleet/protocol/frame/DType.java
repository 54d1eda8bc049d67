package io.vitfleet.protocol.frame;

/** Element type of a tensor on the wire (little-endian). The codes are part of the wire format: only append. */
public enum DType {
  F32(1, 4),
  BF16(2, 2),
  I32(3, 4),
  U8(4, 1);

  private static final DType[] BY_CODE = new DType[5];

  static {
    for (DType d : values()) {
      BY_CODE[d.code] = d;
    }
  }

  private final byte code;
  private final int byteSize;

  DType(int code, int byteSize) {
    this.code = (byte) code;
    this.byteSize = byteSize;
  }

  public byte code() {
    return code;
  }

  /** Bytes per element. */
  public int byteSize() {
    return byteSize;
  }

  /** The dtype with this wire code, or null when the code is unknown (the frame is then malformed). */
  public static DType fromCode(int code) {
    return code > 0 && code < BY_CODE.length ? BY_CODE[code] : null;
  }
}
