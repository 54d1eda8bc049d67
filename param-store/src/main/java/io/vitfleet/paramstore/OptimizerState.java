package io.vitfleet.paramstore;

import io.vitfleet.protocol.ParameterManifest;
import io.vitfleet.protocol.ParameterSpec;
import io.vitfleet.protocol.SecondMomentLayout;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * The Adafactor state of a manifest's tensors: per tensor the bfloat16 momentum, and either the factored second
 * moment ({@code v_row}, {@code v_col}) or the full one ({@code v}), all float32 — about 2 bytes per parameter where
 * Adam keeps 8. Arrays are per tensor (so a model may exceed one Java array); the second moments are exposed live,
 * the momentum (packed for speed, see {@link Bf16Momentum}) through accessors in element order. Not thread-safe.
 *
 * <p>Serialised form (little-endian, byte-exact on a round trip; {@link #sha256()} hashes exactly these bytes):
 * <pre>
 * "VFADAFAC" (8 bytes) | int version (1) | int minDimToFactor | int tensors | long elements
 * per tensor, in manifest order:
 *   int nameLength | name (UTF-8) | int rank | int[rank] shape | byte factored (0/1)
 *   short[size] momentum (bfloat16 bits)
 *   factored: float[rowSize] v_row, float[colSize] v_col   otherwise: float[size] v
 * </pre>
 * Bulk arrays move through a 1 MiB buffer, never element by element.
 */
public final class OptimizerState {
  /** First bytes of a serialised state. */
  static final byte[] MAGIC = "VFADAFAC".getBytes(StandardCharsets.US_ASCII);
  /** Version of the serialised form; bumped on any change of layout. */
  static final int VERSION = 1;
  /** Size of the staging buffer for (de)serialisation: large enough to amortise calls, small enough to stay cheap. */
  private static final int IO_BUFFER = 1 << 20;

  private final ParameterManifest manifest;
  private final int minDimToFactor;
  private final SecondMomentLayout[] layouts;
  /** bfloat16 momentum, packed two per int as {@link Bf16Momentum} lays it out. */
  private final int[][][] momentum;
  private final float[][] rows;
  private final float[][] cols;
  private final float[][] full;

  private OptimizerState(ParameterManifest manifest, int minDimToFactor) {
    this.manifest = manifest;
    this.minDimToFactor = minDimToFactor;
    int n = manifest.count();
    this.layouts = new SecondMomentLayout[n];
    this.momentum = new int[n][][];
    this.rows = new float[n][];
    this.cols = new float[n][];
    this.full = new float[n][];
    for (int i = 0; i < n; i++) {
      ParameterSpec s = manifest.get(i);
      if (s.size() > Integer.MAX_VALUE - 8) {
        throw new IllegalArgumentException("tensor " + s + " has " + s.size() + " elements, more than one Java "
            + "array holds; split it into several parameters");
      }
      SecondMomentLayout l = SecondMomentLayout.of(s.shape(), minDimToFactor);
      layouts[i] = l;
      momentum[i] = Bf16Momentum.allocate((int) s.size());
      if (l.factored()) {
        rows[i] = new float[l.rowSize()];
        cols[i] = new float[l.colSize()];
      } else {
        full[i] = new float[(int) s.size()];
      }
    }
  }

  /** The initial state: zero momentum and zero second moments. */
  public static OptimizerState zeros(ParameterManifest manifest, int minDimToFactor) {
    if (minDimToFactor < 1) {
      throw new IllegalArgumentException("min_dim_to_factor must be >= 1, got " + minDimToFactor);
    }
    return new OptimizerState(manifest, minDimToFactor);
  }

  public ParameterManifest manifest() {
    return manifest;
  }

  /** The factoring threshold this state was laid out with. */
  public int minDimToFactor() {
    return minDimToFactor;
  }

  public SecondMomentLayout layout(int tensor) {
    return layouts[tensor];
  }

  /** The bfloat16 bits of element {@code i} (row-major) of a tensor's momentum; see {@link Bf16#toFloat}. */
  public short momentumBf16(int tensor, int i) {
    return Bf16Momentum.get(momentum[tensor], size(tensor), i);
  }

  /** Element {@code i} (row-major) of a tensor's momentum, as float32. */
  public float momentum(int tensor, int i) {
    return Bf16.toFloat(momentumBf16(tensor, i));
  }

  /** A tensor's momentum as bfloat16 bits in row-major order (a copy). */
  public short[] momentumBf16(int tensor) {
    int size = size(tensor);
    short[] out = new short[size];
    short[] block = new short[Bf16Momentum.BLOCK];
    for (int b = 0; b < momentum[tensor].length; b++) {
      int n = Bf16Momentum.blockLength(size, b);
      Bf16Momentum.blockToBf16(momentum[tensor][b], n, block);
      System.arraycopy(block, 0, out, b * Bf16Momentum.BLOCK, n);
    }
    return out;
  }

  /** Sets element {@code i} of a tensor's momentum to the bfloat16 bits {@code b} (e.g. when importing). */
  public void setMomentumBf16(int tensor, int i, short b) {
    Bf16Momentum.set(momentum[tensor], size(tensor), i, b);
  }

  /** The packed momentum blocks the optimizer updates in place. */
  int[][] packedMomentum(int tensor) {
    return momentum[tensor];
  }

  private int size(int tensor) {
    return (int) manifest.get(tensor).size();
  }

  /** {@code v_row} of a factored tensor (shape {@link SecondMomentLayout#rowShape()}), else null. Live array. */
  public float[] secondMomentRows(int tensor) {
    return rows[tensor];
  }

  /** {@code v_col} of a factored tensor (shape {@link SecondMomentLayout#colShape()}), else null. Live array. */
  public float[] secondMomentCols(int tensor) {
    return cols[tensor];
  }

  /** {@code v} of an unfactored tensor (the tensor's shape), else null. Live array. */
  public float[] secondMoment(int tensor) {
    return full[tensor];
  }

  /** Bytes of state held: 2 per parameter of momentum (rounded up to an int per block) plus 4 per second moment. */
  public long bytes() {
    long b = 0;
    for (int i = 0; i < layouts.length; i++) {
      for (int[] block : momentum[i]) {
        b += 4L * block.length;
      }
      b += 4L * (rows[i] != null ? rows[i].length + cols[i].length : full[i].length);
    }
    return b;
  }

  /** A deep copy. */
  public OptimizerState copy() {
    OptimizerState c = new OptimizerState(manifest, minDimToFactor);
    for (int i = 0; i < layouts.length; i++) {
      for (int b = 0; b < momentum[i].length; b++) {
        System.arraycopy(momentum[i][b], 0, c.momentum[i][b], 0, momentum[i][b].length);
      }
      if (rows[i] != null) {
        System.arraycopy(rows[i], 0, c.rows[i], 0, rows[i].length);
        System.arraycopy(cols[i], 0, c.cols[i], 0, cols[i].length);
      } else {
        System.arraycopy(full[i], 0, c.full[i], 0, full[i].length);
      }
    }
    return c;
  }

  /** SHA-256 of the serialised state: equal hashes mean bit-identical states. */
  public byte[] sha256() {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JVM has no SHA-256", e);
    }
    try {
      serialise(buf -> md.update(buf.array(), 0, buf.position()));
    } catch (IOException e) {
      throw new IllegalStateException("hashing cannot fail with I/O", e);
    }
    return md.digest();
  }

  /** Writes the serialised state. */
  public void write(DataOutput out) throws IOException {
    serialise(buf -> out.write(buf.array(), 0, buf.position()));
  }

  /** Writes the serialised state (the caller buffers and closes the stream). */
  public void writeTo(OutputStream out) throws IOException {
    serialise(buf -> out.write(buf.array(), 0, buf.position()));
  }

  /** Writes the serialised state to a channel (e.g. a FileChannel). */
  public void writeTo(WritableByteChannel out) throws IOException {
    serialise(buf -> {
      buf.flip();
      while (buf.hasRemaining()) {
        out.write(buf);
      }
    });
  }

  /** Reads a state written by {@link #write}, checking it against {@code manifest}; reads exactly its bytes. */
  public static OptimizerState read(DataInput in, ParameterManifest manifest) throws IOException {
    return deserialise((b, off, len) -> in.readFully(b, off, len), manifest);
  }

  /** Reads a state written by {@link #writeTo(OutputStream)}; reads exactly its bytes. */
  public static OptimizerState readFrom(InputStream in, ParameterManifest manifest) throws IOException {
    return deserialise((b, off, len) -> {
      if (in.readNBytes(b, off, len) != len) {
        throw new EOFException();
      }
    }, manifest);
  }

  /** Reads a state from a channel; reads exactly its bytes. */
  public static OptimizerState readFrom(ReadableByteChannel in, ParameterManifest manifest) throws IOException {
    return deserialise((b, off, len) -> {
      ByteBuffer bb = ByteBuffer.wrap(b, off, len);
      while (bb.hasRemaining()) {
        if (in.read(bb) < 0) {
          throw new EOFException();
        }
      }
    }, manifest);
  }

  @FunctionalInterface
  private interface Sink {
    /** Consumes {@code buf[0 .. position)}. */
    void drain(ByteBuffer buf) throws IOException;
  }

  @FunctionalInterface
  private interface Source {
    void readFully(byte[] b, int off, int len) throws IOException;
  }

  private void serialise(Sink sink) throws IOException {
    Writer w = new Writer(sink);
    w.bytes(MAGIC);
    w.putInt(VERSION);
    w.putInt(minDimToFactor);
    w.putInt(layouts.length);
    w.putLong(manifest.totalSize());
    for (int i = 0; i < layouts.length; i++) {
      ParameterSpec s = manifest.get(i);
      byte[] name = s.name().getBytes(StandardCharsets.UTF_8);
      w.putInt(name.length);
      w.bytes(name);
      int[] shape = s.shape();
      w.putInt(shape.length);
      for (int d : shape) {
        w.putInt(d);
      }
      w.bytes(new byte[] {(byte) (layouts[i].factored() ? 1 : 0)});
      w.momentum(momentum[i], (int) s.size());
      if (layouts[i].factored()) {
        w.floats(rows[i]);
        w.floats(cols[i]);
      } else {
        w.floats(full[i]);
      }
    }
    w.flush();
  }

  private static OptimizerState deserialise(Source source, ParameterManifest manifest) throws IOException {
    Reader r = new Reader(source);
    byte[] magic = r.bytes(MAGIC.length, "the magic bytes");
    if (!Arrays.equals(magic, MAGIC)) {
      throw new IOException("not an optimizer state: the first bytes are "
          + new String(magic, StandardCharsets.ISO_8859_1) + ", expected VFADAFAC");
    }
    int version = r.getInt("the version");
    if (version != VERSION) {
      throw new IOException("optimizer state has version " + version + " but this build reads version " + VERSION
          + "; read it with the vitfleet version that wrote it");
    }
    int minDim = r.getInt("min_dim_to_factor");
    if (minDim < 1) {
      throw new IOException("optimizer state has min_dim_to_factor " + minDim + " at byte " + (r.position - 4)
          + "; the file is corrupt");
    }
    int tensors = r.getInt("the tensor count");
    long elements = r.getLong("the element count");
    if (tensors != manifest.count() || elements != manifest.totalSize()) {
      throw new IOException("optimizer state holds " + tensors + " tensors / " + elements + " elements but the "
          + "manifest has " + manifest.count() + " / " + manifest.totalSize() + ": it belongs to another model");
    }
    OptimizerState state = new OptimizerState(manifest, minDim);
    for (int i = 0; i < tensors; i++) {
      ParameterSpec s = manifest.get(i);
      long at = r.position;
      int nameLength = r.getInt("the name length of tensor " + i);
      if (nameLength < 0 || nameLength > 1 << 16) {
        throw new IOException("optimizer state: tensor " + i + " has a name length of " + nameLength + " at byte "
            + at + "; the file is corrupt");
      }
      String name = new String(r.bytes(nameLength, "the name of tensor " + i), StandardCharsets.UTF_8);
      int rank = r.getInt("the rank of " + name);
      if (rank < 0 || rank > 64) {
        throw new IOException("optimizer state: tensor " + name + " has rank " + rank + " at byte " + at
            + "; the file is corrupt");
      }
      int[] shape = new int[rank];
      for (int d = 0; d < rank; d++) {
        shape[d] = r.getInt("the shape of " + name);
      }
      if (!name.equals(s.name()) || !Arrays.equals(shape, s.shape())) {
        throw new IOException("optimizer state: tensor " + i + " (at byte " + at + ") is " + name
            + Arrays.toString(shape) + " but the manifest has " + s + ": it belongs to another model");
      }
      boolean factored = r.bytes(1, "the factored flag of " + name)[0] != 0;
      if (factored != state.layouts[i].factored()) {
        throw new IOException("optimizer state: tensor " + s + " is stored " + (factored ? "" : "un") + "factored, "
            + "which min_dim_to_factor " + minDim + " contradicts; the file is corrupt");
      }
      r.momentum(state.momentum[i], (int) s.size(), "the momentum of " + name);
      if (factored) {
        r.floats(state.rows[i], "v_row of " + name);
        r.floats(state.cols[i], "v_col of " + name);
      } else {
        r.floats(state.full[i], "v of " + name);
      }
    }
    return state;
  }

  /** Stages little-endian values in a heap buffer and drains it to the sink when full. */
  private static final class Writer {
    private final Sink sink;
    private final ByteBuffer buf = ByteBuffer.allocate(IO_BUFFER).order(ByteOrder.LITTLE_ENDIAN);
    private final short[] block = new short[Bf16Momentum.BLOCK];

    Writer(Sink sink) {
      this.sink = sink;
    }

    private void room(int n) throws IOException {
      if (buf.remaining() < n) {
        flush();
      }
    }

    void flush() throws IOException {
      if (buf.position() > 0) {
        sink.drain(buf);
        buf.clear();
      }
    }

    void putInt(int v) throws IOException {
      room(4);
      buf.putInt(v);
    }

    void putLong(long v) throws IOException {
      room(8);
      buf.putLong(v);
    }

    void bytes(byte[] b) throws IOException {
      for (int off = 0; off < b.length; ) {
        room(1);
        int n = Math.min(b.length - off, buf.remaining());
        buf.put(b, off, n);
        off += n;
      }
    }

    /** The packed momentum of a tensor of {@code size} elements, as bfloat16 in element order. */
    void momentum(int[][] packed, int size) throws IOException {
      for (int b = 0; b < packed.length; b++) {
        int len = Bf16Momentum.blockLength(size, b);
        Bf16Momentum.blockToBf16(packed[b], len, block);
        shorts(block, len);
      }
    }

    private void shorts(short[] a, int len) throws IOException {
      for (int off = 0; off < len; ) {
        room(2);
        int n = Math.min(len - off, buf.remaining() / 2);
        buf.asShortBuffer().put(a, off, n);
        buf.position(buf.position() + 2 * n);
        off += n;
      }
    }

    void floats(float[] a) throws IOException {
      for (int off = 0; off < a.length; ) {
        room(4);
        int n = Math.min(a.length - off, buf.remaining() / 4);
        buf.asFloatBuffer().put(a, off, n);
        buf.position(buf.position() + 4 * n);
        off += n;
      }
    }
  }

  /** Reads exactly the bytes asked for (never past the state), through a heap buffer. */
  private static final class Reader {
    private final Source source;
    private final ByteBuffer buf = ByteBuffer.allocate(IO_BUFFER).order(ByteOrder.LITTLE_ENDIAN);
    private final short[] block = new short[Bf16Momentum.BLOCK];
    long position;

    Reader(Source source) {
      this.source = source;
    }

    private void fill(int n, String what) throws IOException {
      buf.clear();
      try {
        source.readFully(buf.array(), 0, n);
      } catch (EOFException e) {
        EOFException ctx = new EOFException("optimizer state ends early: " + n + " bytes of " + what
            + " missing at byte " + position + "; the file is truncated");
        ctx.initCause(e);
        throw ctx;
      }
      buf.limit(n);
      position += n;
    }

    int getInt(String what) throws IOException {
      fill(4, what);
      return buf.getInt();
    }

    long getLong(String what) throws IOException {
      fill(8, what);
      return buf.getLong();
    }

    byte[] bytes(int len, String what) throws IOException {
      byte[] b = new byte[len];
      for (int off = 0; off < len; ) {
        int n = Math.min(len - off, IO_BUFFER);
        fill(n, what);
        buf.get(b, off, n);
        off += n;
      }
      return b;
    }

    /** A tensor's momentum (bfloat16 in element order) into its packed layout. */
    void momentum(int[][] packed, int size, String what) throws IOException {
      for (int b = 0; b < packed.length; b++) {
        int len = Bf16Momentum.blockLength(size, b);
        fill(2 * len, what);
        buf.asShortBuffer().get(block, 0, len);
        Bf16Momentum.blockFromBf16(block, len, packed[b]);
      }
    }

    void floats(float[] a, String what) throws IOException {
      for (int off = 0; off < a.length; ) {
        int n = Math.min(a.length - off, IO_BUFFER / 4);
        fill(4 * n, what);
        buf.asFloatBuffer().get(a, off, n);
        off += n;
      }
    }
  }
}
