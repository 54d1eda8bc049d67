package io.vitfleet.paramstore.store;

import io.vitfleet.protocol.ParameterManifest;
import io.vitfleet.protocol.ParameterSpec;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Where each piece of a slot lies in the map. A slot's data entries are numbered: first every tensor's parameters,
 * cut into chunks of at most {@code chunkBytes}, in manifest order; then the serialised optimizer state cut the same
 * way. Each has a {@code long} key; the slot's parity entry, the two commit entries and the one prepared entry have
 * keys of their own:
 *
 * <pre>
 * bits 63..56 kind (1 commit, 2 data, 3 parity, 4 prepared) | 55..48 slot | 47..0 data index, or commit copy (0, 1)
 * </pre>
 */
final class SlotLayout {
  private static final long COMMIT_KIND = 1L << 56;
  private static final long DATA_KIND = 2L << 56;
  private static final long PARITY_KIND = 3L << 56;
  private static final long PREPARED_KIND = 4L << 56;

  private final ParameterManifest manifest;
  private final int chunkBytes;
  private final int floatsPerChunk;
  /** Data index of each tensor's first chunk; {@code firstChunk[count]} = number of parameter chunks. */
  private final int[] firstChunk;

  SlotLayout(ParameterManifest manifest, int chunkBytes) {
    if (chunkBytes < 64 || chunkBytes % 4 != 0) {
      throw new IllegalArgumentException("chunk size must be a multiple of 4 of at least 64 bytes, got "
          + chunkBytes);
    }
    this.manifest = manifest;
    this.chunkBytes = chunkBytes;
    this.floatsPerChunk = chunkBytes / 4;
    this.firstChunk = new int[manifest.count() + 1];
    long chunks = 0;
    for (int i = 0; i < manifest.count(); i++) {
      firstChunk[i] = (int) chunks;
      chunks += (manifest.get(i).size() + floatsPerChunk - 1) / floatsPerChunk;
      if (chunks > Integer.MAX_VALUE / 2) {
        throw new IllegalArgumentException(manifest + " needs " + chunks + " chunks of " + chunkBytes
            + " bytes; use a larger chunk size");
      }
    }
    firstChunk[manifest.count()] = (int) chunks;
  }

  int chunkBytes() {
    return chunkBytes;
  }

  int floatsPerChunk() {
    return floatsPerChunk;
  }

  int paramChunks() {
    return firstChunk[manifest.count()];
  }

  int firstChunk(int tensor) {
    return firstChunk[tensor];
  }

  int chunks(int tensor) {
    return firstChunk[tensor + 1] - firstChunk[tensor];
  }

  /** Payload bytes of data entry {@code index} of a slot whose optimizer state has {@code stateBytes} bytes. */
  int payloadLength(int index, long stateBytes) {
    if (index < paramChunks()) {
      int tensor = tensorOf(index);
      long size = manifest.get(tensor).size();
      long start = (long) (index - firstChunk[tensor]) * floatsPerChunk;
      return (int) Math.min(floatsPerChunk, size - start) * 4;
    }
    long start = (long) (index - paramChunks()) * chunkBytes;
    return (int) Math.min(chunkBytes, stateBytes - start);
  }

  byte kind(int index) {
    return index < paramChunks() ? EntryFrame.PARAMS : EntryFrame.STATE;
  }

  private int tensorOf(int index) {
    int lo = 0;
    int hi = manifest.count() - 1;
    while (lo < hi) {
      int mid = (lo + hi + 1) >>> 1;
      if (firstChunk[mid] <= index) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return lo;
  }

  static int stateChunks(long stateBytes, int chunkBytes) {
    return (int) ((stateBytes + chunkBytes - 1) / chunkBytes);
  }

  /**
   * An upper bound of the serialised optimizer state's size (the unfactored layout, which is never smaller than the
   * factored one), for sizing the map before the state is known.
   */
  long maxStateBytes() {
    long b = 8 + 4 + 4 + 4 + 8;
    for (ParameterSpec s : manifest.specs()) {
      b += 4 + s.name().getBytes(StandardCharsets.UTF_8).length + 4 + 4L * s.rank() + 1 + 6 * s.size() + 8;
    }
    return b;
  }

  static long dataKey(int slot, int index) {
    return DATA_KIND | ((long) slot << 48) | index;
  }

  static long parityKey(int slot) {
    return PARITY_KIND | ((long) slot << 48);
  }

  static long commitKey(int copy) {
    return COMMIT_KIND | copy;
  }

  /** The key of the prepared entry (one per store: only the staging slot can be prepared). */
  static long preparedKey() {
    return PREPARED_KIND;
  }

  /** The first 8 bytes of SHA-256 over the manifest's names and shapes: a shard's identity besides its job. */
  static long manifestHash(ParameterManifest manifest) {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JVM has no SHA-256", e);
    }
    for (ParameterSpec s : manifest.specs()) {
      md.update(s.name().getBytes(StandardCharsets.UTF_8));
      md.update((byte) 0);
      for (int d : s.shape()) {
        md.update(new byte[] {(byte) (d >>> 24), (byte) (d >>> 16), (byte) (d >>> 8), (byte) d});
      }
      md.update((byte) 0xff);
    }
    byte[] h = md.digest();
    long v = 0;
    for (int i = 0; i < 8; i++) {
      v = (v << 8) | (h[i] & 0xff);
    }
    return v;
  }
}
