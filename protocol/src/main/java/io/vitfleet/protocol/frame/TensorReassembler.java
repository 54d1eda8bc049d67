package io.vitfleet.protocol.frame;

import java.nio.ByteBuffer;
import java.util.Arrays;
import org.agrona.DirectBuffer;
import org.agrona.collections.LongHashSet;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Turns received frames back into tensors, and is the one gate every data-plane frame passes before it can be
 * applied: a frame that is malformed, fails its CRC32C, belongs to an unknown job or to another plan version, or
 * does not fit the chunks already received of its tensor is dropped and counted per {@link DropReason}, never
 * applied. Chunks may arrive in any order; the tensor is handed to the {@link TensorHandler} when its last chunk
 * arrives.
 *
 * <p>The hot path returns codes ({@link #STORED}, {@link #COMPLETED}, {@link #DROPPED}) and allocates nothing;
 * memory is allocated only when a reassembly slot meets a tensor larger than any it held before. Not thread-safe:
 * one receiving thread (an Aeron subscriber agent).
 */
public final class TensorReassembler {
  /** The frame was valid and its chunk stored; the tensor is not complete yet. */
  public static final int STORED = 0;
  /** The frame was valid and completed its tensor, which the handler has seen. */
  public static final int COMPLETED = 1;
  /** The frame was dropped and counted; {@link #lastDropReason()} says why. */
  public static final int DROPPED = -1;

  /**
   * Tensors that may be in reassembly at once. A worker receives a handful per microbatch (activations, labels,
   * parameters of its stage); more slots tolerate more interleaving, at the price of a longer scan per frame.
   */
  public static final int DEFAULT_MAX_IN_FLIGHT = 64;
  /**
   * Largest tensor accepted, in bytes. Bounds the memory one (valid but mistaken) sender can make a receiver
   * allocate; 1 GiB is above any ViT-G parameter chunk or activation the planner produces.
   */
  public static final int DEFAULT_MAX_TENSOR_BYTES = 1 << 30;

  private final TensorHandler handler;
  private final DropCounters drops;
  private final int maxTensorBytes;
  private final LongHashSet jobs = new LongHashSet();
  private final Slot[] slots;
  private final FrameHeader header = new FrameHeader();
  private final FrameChecksum checksum = new FrameChecksum();
  private int planVersion;
  private DropReason lastDropReason;

  public TensorReassembler(TensorHandler handler, DropCounters drops) {
    this(handler, drops, DEFAULT_MAX_IN_FLIGHT, DEFAULT_MAX_TENSOR_BYTES);
  }

  public TensorReassembler(TensorHandler handler, DropCounters drops, int maxInFlight, int maxTensorBytes) {
    if (maxInFlight < 1 || maxTensorBytes < 0) {
      throw new IllegalArgumentException("maxInFlight must be >= 1 and maxTensorBytes >= 0, got " + maxInFlight
          + " and " + maxTensorBytes);
    }
    this.handler = handler;
    this.drops = drops;
    this.maxTensorBytes = maxTensorBytes;
    this.slots = new Slot[maxInFlight];
    for (int i = 0; i < maxInFlight; i++) {
      slots[i] = new Slot();
    }
  }

  /** Accepts frames of this job (its fingerprint); frames of any other job are dropped as UNKNOWN_JOB. */
  public TensorReassembler acceptJob(long jobId) {
    jobs.add(jobId);
    return this;
  }

  public int planVersion() {
    return planVersion;
  }

  /**
   * Moves to a new plan version: frames of any other version are dropped from now on, and unfinished tensors of
   * other versions are abandoned (counted). Returns how many were abandoned.
   */
  public int planVersion(int version) {
    this.planVersion = version;
    int n = 0;
    for (Slot s : slots) {
      if (s.active && s.planVersion != version) {
        s.active = false;
        n++;
      }
    }
    drops.addAbandonedTensors(n);
    return n;
  }

  /** Abandons unfinished tensors of steps before {@code step} (after an abort); returns how many. */
  public int abandonStepsBefore(long step) {
    int n = 0;
    for (Slot s : slots) {
      if (s.active && s.step < step) {
        s.active = false;
        n++;
      }
    }
    drops.addAbandonedTensors(n);
    return n;
  }

  /** Tensors with some but not all chunks received. */
  public int inFlight() {
    int n = 0;
    for (Slot s : slots) {
      if (s.active) {
        n++;
      }
    }
    return n;
  }

  public DropCounters drops() {
    return drops;
  }

  /** Why the last {@link #DROPPED} frame was dropped (null before any drop). */
  public DropReason lastDropReason() {
    return lastDropReason;
  }

  /** Checks the frame in {@code buffer[offset, offset + length)} and stores its chunk; see the class comment. */
  public int onFrame(DirectBuffer buffer, int offset, int length) {
    if (length < FrameHeader.LENGTH) {
      return drop(DropReason.MALFORMED);
    }
    header.wrap(buffer, offset);
    int payload = header.payloadLength();
    if (header.magic() != FrameHeader.MAGIC || header.version() != FrameHeader.VERSION
        || payload != length - FrameHeader.LENGTH) {
      return drop(DropReason.MALFORMED);
    }
    if (checksum.compute(buffer, offset, payload) != header.crc()) {
      return drop(DropReason.BAD_CRC);
    }
    DType dtype = header.dtype();
    if (header.kind() == null || dtype == null || header.rank() > FrameHeader.MAX_RANK) {
      return drop(DropReason.MALFORMED);
    }
    if (!jobs.contains(header.jobId())) {
      return drop(DropReason.UNKNOWN_JOB);
    }
    int version = header.planVersion();
    if (version != planVersion) {
      return drop(version < planVersion ? DropReason.STALE_PLAN : DropReason.FUTURE_PLAN);
    }
    DropReason layout = checkChunkLayout(dtype, payload);
    if (layout != null) {
      return drop(layout);
    }
    return store(payload);
  }

  /** The frame's own fields must agree: size = shape x dtype, count = ceil(size / stride), payload where it fits. */
  private DropReason checkChunkLayout(DType dtype, int payload) {
    long elements = header.elementCount();
    long bytes = header.tensorBytes();
    if (elements < 0 || elements > Long.MAX_VALUE / dtype.byteSize() || bytes != elements * dtype.byteSize()) {
      return DropReason.MALFORMED;
    }
    int stride = header.chunkStride();
    int count = header.chunkCount();
    if (stride <= 0 || count != Math.max(1, (bytes + stride - 1) / stride)) {
      return DropReason.MALFORMED;
    }
    int index = header.chunkIndex();
    if (index < 0 || index >= count || payload != Math.min(stride, bytes - (long) index * stride)) {
      return DropReason.CHUNK_OUT_OF_RANGE;
    }
    if (bytes > maxTensorBytes) {
      return DropReason.TOO_LARGE;
    }
    return null;
  }

  private int store(int payload) {
    Slot slot = findSlot();
    if (slot == null) {
      slot = freeSlot();
      if (slot == null) {
        return drop(DropReason.NO_FREE_SLOT);
      }
      slot.start(header);
    } else if (!slot.sameTensorLayout(header)) {
      return drop(DropReason.INCONSISTENT_CHUNK);
    }
    int index = header.chunkIndex();
    if (slot.isReceived(index)) {
      return drop(DropReason.DUPLICATE_CHUNK);
    }
    slot.data.putBytes(index * slot.stride, header.buffer(), header.payloadOffset(), payload);
    slot.markReceived(index);
    if (slot.received < slot.chunkCount) {
      return STORED;
    }
    try {
      handler.onTensor(slot.completed());
    } finally {
      slot.active = false;
    }
    return COMPLETED;
  }

  private Slot findSlot() {
    long job = header.jobId();
    long step = header.step();
    int mb = header.microbatchOrGroup();
    int stage = header.stage();
    byte kind = header.kindCode();
    int tensorId = header.tensorId();
    for (Slot s : slots) {
      if (s.active && s.tensorId == tensorId && s.step == step && s.microbatchOrGroup == mb && s.stage == stage
          && s.kind.code() == kind && s.jobId == job) {
        return s;
      }
    }
    return null;
  }

  private Slot freeSlot() {
    for (Slot s : slots) {
      if (!s.active) {
        return s;
      }
    }
    return null;
  }

  private int drop(DropReason reason) {
    lastDropReason = reason;
    drops.increment(reason);
    return DROPPED;
  }

  /** One tensor in reassembly; reused, and its memory kept, across tensors. */
  private static final class Slot implements ReceivedTensor {
    boolean active;
    long jobId;
    int planVersion;
    long step;
    int microbatchOrGroup;
    int stage;
    FrameKind kind;
    int tensorId;
    DType dtype;
    int rank;
    final int[] dims = new int[FrameHeader.MAX_RANK];
    int tensorBytes;
    int chunkCount;
    int stride;
    int received;
    long[] receivedBits = new long[1];
    final UnsafeBuffer data = new UnsafeBuffer(new byte[0]);
    final UnsafeBuffer view = new UnsafeBuffer(new byte[0]);
    private ByteBuffer memory;

    void start(FrameHeader h) {
      active = true;
      jobId = h.jobId();
      planVersion = h.planVersion();
      step = h.step();
      microbatchOrGroup = h.microbatchOrGroup();
      stage = h.stage();
      kind = h.kind();
      tensorId = h.tensorId();
      dtype = h.dtype();
      rank = h.rank();
      for (int i = 0; i < FrameHeader.MAX_RANK; i++) {
        dims[i] = i < rank ? h.dim(i) : 0;
      }
      tensorBytes = (int) h.tensorBytes();
      chunkCount = h.chunkCount();
      stride = h.chunkStride();
      received = 0;
      int words = (chunkCount + 63) >>> 6;
      if (receivedBits.length < words) {
        receivedBits = new long[words];
      } else {
        Arrays.fill(receivedBits, 0, words, 0L);
      }
      if (memory == null || memory.capacity() < tensorBytes) {
        memory = ByteBuffer.allocateDirect(Math.max(tensorBytes, 64));
        data.wrap(memory);
      }
    }

    boolean sameTensorLayout(FrameHeader h) {
      if (h.dtype() != dtype || h.rank() != rank || h.tensorBytes() != tensorBytes || h.chunkCount() != chunkCount
          || h.chunkStride() != stride) {
        return false;
      }
      for (int i = 0; i < rank; i++) {
        if (h.dim(i) != dims[i]) {
          return false;
        }
      }
      return true;
    }

    boolean isReceived(int index) {
      return (receivedBits[index >>> 6] & (1L << index)) != 0;
    }

    void markReceived(int index) {
      receivedBits[index >>> 6] |= 1L << index;
      received++;
    }

    ReceivedTensor completed() {
      view.wrap(data, 0, tensorBytes);
      return this;
    }

    @Override
    public long jobId() {
      return jobId;
    }

    @Override
    public int planVersion() {
      return planVersion;
    }

    @Override
    public long step() {
      return step;
    }

    @Override
    public int microbatchOrGroup() {
      return microbatchOrGroup;
    }

    @Override
    public int stage() {
      return stage;
    }

    @Override
    public FrameKind kind() {
      return kind;
    }

    @Override
    public int tensorId() {
      return tensorId;
    }

    @Override
    public DType dtype() {
      return dtype;
    }

    @Override
    public int rank() {
      return rank;
    }

    @Override
    public int dim(int i) {
      return dims[i];
    }

    @Override
    public DirectBuffer data() {
      return view;
    }

    @Override
    public int byteLength() {
      return tensorBytes;
    }
  }
}
