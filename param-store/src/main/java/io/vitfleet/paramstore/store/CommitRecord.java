package io.vitfleet.paramstore.store;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * What a commit makes durable: which step is committed, in which slot its parameters and optimizer state lie, under
 * which plan, for which job and manifest, and the digest of the slot's content (CRC32C over the CRC32C of each data
 * payload in slot order), which lets the store prove the slot whole or rebuild one missing entry from parity.
 * Stored twice, as the payload of the two commit entries, written one after the other; and once more, before that,
 * as the payload of the prepared entry that makes a staged step durable.
 */
record CommitRecord(long step, int slot, long planVersion, long jobFingerprint, long manifestHash, int chunkBytes,
    long stateBytes, int stateChunks, int digest) {

  static final int BYTES = 8 + 4 + 8 + 8 + 8 + 4 + 8 + 4 + 4;

  byte[] payload() {
    ByteBuffer b = ByteBuffer.allocate(BYTES).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(step).putInt(slot).putLong(planVersion).putLong(jobFingerprint).putLong(manifestHash)
        .putInt(chunkBytes).putLong(stateBytes).putInt(stateChunks).putInt(digest);
    return b.array();
  }

  /** The record held by a value that {@link EntryFrame#check} accepted as a commit entry. */
  static CommitRecord from(byte[] value) {
    ByteBuffer b = ByteBuffer.wrap(value, EntryFrame.HEADER, BYTES).order(ByteOrder.LITTLE_ENDIAN);
    return new CommitRecord(b.getLong(), b.getInt(), b.getLong(), b.getLong(), b.getLong(), b.getInt(), b.getLong(),
        b.getInt(), b.getInt());
  }
}
