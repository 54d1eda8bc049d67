package io.vitfleet.paramstore;

import io.vitfleet.protocol.ParameterManifest;
import io.vitfleet.protocol.ParameterSpec;

/**
 * The flat float buffer of a manifest (every tensor row-major, in manifest order) held as Java arrays, so that models
 * larger than one array (2^31 elements) still fit: each tensor lies whole inside one array, at an offset. The
 * optimizer loops over each tensor as a plain {@code float[]} range, which the JIT vectorises.
 *
 * <p>Three ways to get one: {@link #wrap} views a single manifest-order array (the single-process trainer's),
 * {@link #ofTensors} one array per tensor (a shard's), {@link #allocate} packs tensors into arrays of at most
 * {@link #MAX_CHUNK} elements. Not a copy: the arrays are shared with the caller.
 */
public final class FlatFloats {
  /**
   * Largest array {@link #allocate} packs tensors into (2^28 floats = 1 GiB): larger chunks waste less at chunk ends,
   * smaller ones are easier for the collector to place. A tensor larger than this gets an array of its own.
   */
  public static final int MAX_CHUNK = 1 << 28;

  private final ParameterManifest manifest;
  private final float[][] arrays;
  private final int[] offsets;

  private FlatFloats(ParameterManifest manifest, float[][] arrays, int[] offsets) {
    this.manifest = manifest;
    this.arrays = arrays;
    this.offsets = offsets;
  }

  /** A zeroed buffer for {@code manifest}, tensors packed into arrays of at most {@link #MAX_CHUNK} elements. */
  public static FlatFloats allocate(ParameterManifest manifest) {
    int n = manifest.count();
    float[][] arrays = new float[n][];
    int[] offsets = new int[n];
    int first = 0;
    while (first < n) {
      long chunk = tensorSize(manifest, first);
      int end = first + 1;
      while (end < n && chunk + tensorSize(manifest, end) <= MAX_CHUNK) {
        chunk += tensorSize(manifest, end);
        end++;
      }
      float[] array = new float[(int) chunk];
      int offset = 0;
      for (int i = first; i < end; i++) {
        arrays[i] = array;
        offsets[i] = offset;
        offset += (int) manifest.get(i).size();
      }
      first = end;
    }
    return new FlatFloats(manifest, arrays, offsets);
  }

  /** A view of one array holding the whole manifest in order (its length must be the manifest's total size). */
  public static FlatFloats wrap(ParameterManifest manifest, float[] flat) {
    if (flat.length != manifest.totalSize()) {
      throw new IllegalArgumentException("flat buffer has " + flat.length + " floats but the manifest has "
          + manifest.totalSize() + " elements (" + manifest + ")");
    }
    int n = manifest.count();
    float[][] arrays = new float[n][];
    int[] offsets = new int[n];
    for (int i = 0; i < n; i++) {
      arrays[i] = flat;
      offsets[i] = (int) manifest.offset(i);
    }
    return new FlatFloats(manifest, arrays, offsets);
  }

  /** A view of one array per tensor, in manifest order, each exactly the tensor's size. */
  public static FlatFloats ofTensors(ParameterManifest manifest, float[][] tensors) {
    if (tensors.length != manifest.count()) {
      throw new IllegalArgumentException(tensors.length + " tensor arrays given for a manifest of "
          + manifest.count() + " tensors");
    }
    for (int i = 0; i < tensors.length; i++) {
      if (tensors[i] == null || tensors[i].length != manifest.get(i).size()) {
        throw new IllegalArgumentException("array " + i + " for " + manifest.get(i) + " has "
            + (tensors[i] == null ? "no array" : tensors[i].length + " floats") + ", expected "
            + manifest.get(i).size());
      }
    }
    return new FlatFloats(manifest, tensors.clone(), new int[tensors.length]);
  }

  private static long tensorSize(ParameterManifest manifest, int i) {
    ParameterSpec s = manifest.get(i);
    if (s.size() > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("tensor " + s + " has " + s.size() + " elements, more than one Java array "
          + "holds; split it into several parameters");
    }
    return s.size();
  }

  public ParameterManifest manifest() {
    return manifest;
  }

  /** The array holding tensor {@code tensor} (shared, not a copy). */
  public float[] array(int tensor) {
    return arrays[tensor];
  }

  /** Where tensor {@code tensor} starts in {@link #array(int)}. */
  public int offset(int tensor) {
    return offsets[tensor];
  }

  /** Element {@code i} of tensor {@code tensor} (row-major). */
  public float get(int tensor, int i) {
    return arrays[tensor][offsets[tensor] + i];
  }

  public void set(int tensor, int i, float value) {
    arrays[tensor][offsets[tensor] + i] = value;
  }

  /** Copies tensor {@code tensor} into {@code dst[dstOff ..]}. */
  public void copyTensorTo(int tensor, float[] dst, int dstOff) {
    System.arraycopy(arrays[tensor], offsets[tensor], dst, dstOff, (int) manifest.get(tensor).size());
  }

  /** Copies {@code src[srcOff ..]} into tensor {@code tensor}. */
  public void copyTensorFrom(int tensor, float[] src, int srcOff) {
    System.arraycopy(src, srcOff, arrays[tensor], offsets[tensor], (int) manifest.get(tensor).size());
  }

  @Override
  public String toString() {
    return "FlatFloats[" + manifest + "]";
  }
}
