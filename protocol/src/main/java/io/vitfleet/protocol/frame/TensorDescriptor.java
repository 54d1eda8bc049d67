package io.vitfleet.protocol.frame;

/**
 * What a sender says about a tensor it is about to send: its address in the step (job, plan version, step,
 * microbatch or group, stage, kind, tensor id) and its type (dtype and shape). Mutable and reusable so a sender
 * fills one per tensor without allocating.
 */
public final class TensorDescriptor {
  private long jobId;
  private int planVersion;
  private long step;
  private int microbatchOrGroup;
  private int stage;
  private FrameKind kind = FrameKind.ACTIVATION;
  private int tensorId;
  private DType dtype = DType.F32;
  private final int[] dims = new int[FrameHeader.MAX_RANK];
  private int rank;

  public TensorDescriptor jobId(long jobId) {
    this.jobId = jobId;
    return this;
  }

  public TensorDescriptor planVersion(int planVersion) {
    this.planVersion = planVersion;
    return this;
  }

  public TensorDescriptor step(long step) {
    this.step = step;
    return this;
  }

  public TensorDescriptor microbatchOrGroup(int microbatchOrGroup) {
    this.microbatchOrGroup = microbatchOrGroup;
    return this;
  }

  public TensorDescriptor stage(int stage) {
    this.stage = stage;
    return this;
  }

  public TensorDescriptor kind(FrameKind kind) {
    this.kind = kind;
    return this;
  }

  public TensorDescriptor tensorId(int tensorId) {
    this.tensorId = tensorId;
    return this;
  }

  public TensorDescriptor dtype(DType dtype) {
    this.dtype = dtype;
    return this;
  }

  /** Sets the shape; every dim must be >= 0 and the rank at most {@link FrameHeader#MAX_RANK}. */
  public TensorDescriptor shape(int... shape) {
    if (shape.length > FrameHeader.MAX_RANK) {
      throw new IllegalArgumentException("rank " + shape.length + " exceeds the frame's " + FrameHeader.MAX_RANK);
    }
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] < 0) {
        throw new IllegalArgumentException("dim " + i + " is negative: " + shape[i]);
      }
      dims[i] = shape[i];
    }
    rank = shape.length;
    return this;
  }

  public long jobId() {
    return jobId;
  }

  public int planVersion() {
    return planVersion;
  }

  public long step() {
    return step;
  }

  public int microbatchOrGroup() {
    return microbatchOrGroup;
  }

  public int stage() {
    return stage;
  }

  public FrameKind kind() {
    return kind;
  }

  public int tensorId() {
    return tensorId;
  }

  public DType dtype() {
    return dtype;
  }

  public int rank() {
    return rank;
  }

  public int dim(int i) {
    return dims[i];
  }

  /** Bytes of the whole tensor: product of the shape times the dtype size. */
  public long tensorBytes() {
    long n = dtype.byteSize();
    for (int i = 0; i < rank; i++) {
      n = Math.multiplyExact(n, dims[i]);
    }
    return n;
  }

  /** Writes every header field this descriptor knows (not the chunk fields, not the CRC). */
  void writeTo(FrameHeader header) {
    header.writeFixedFields()
        .kind(kind)
        .dtype(dtype)
        .shape(dims, rank)
        .jobId(jobId)
        .step(step)
        .planVersion(planVersion)
        .microbatchOrGroup(microbatchOrGroup)
        .stage(stage)
        .tensorId(tensorId);
  }
}
