package io.vitfleet.paramstore.store;

import io.vitfleet.paramstore.FlatFloats;
import io.vitfleet.paramstore.OptimizerState;
import io.vitfleet.protocol.ParameterManifest;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.SequenceInputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.zip.CRC32C;
import net.openhft.chronicle.map.ChronicleMap;
import net.openhft.chronicle.map.ChronicleMapBuilder;
import net.openhft.chronicle.map.ExternalMapQueryContext;
import net.openhft.chronicle.map.MapEntry;

/**
 * One parameter-store shard's durable state: the fp32 parameters and the optimizer state of the tensors it owns, in
 * one persisted Chronicle Map, with a two-slot commit that survives kill -9 at any instant.
 *
 * <p>Why it is built this way: after a crash Chronicle Map may lose the entry that was being written, old value
 * included. So no single entry is ever the only copy of anything committed:
 * <ul>
 *   <li>Two slots. A step is staged into the slot that is not committed; the committed slot is never written until
 *       a later commit has made the other one committed.</li>
 *   <li>Every value carries its kind, key, step, slot and a CRC32C ({@link EntryFrame}), so a torn, missing or stale
 *       entry is recognised on its own.</li>
 *   <li>Each slot has a parity entry (XOR of its padded data payloads), written last when staging, which rebuilds
 *       any one lost data entry; the commit record holds the digest of the slot's payload CRCs, which proves a slot
 *       whole, or a rebuilt entry right.</li>
 *   <li>A commit writes the same {@link CommitRecord} to two entries, one after the other. A crash while writing
 *       the first leaves the second naming the previous step, whose slot is untouched; a crash while writing the
 *       second leaves the first naming the new step.</li>
 *   <li>Prepared is durable too (two-phase commit: a shard votes prepared only once a crash can no longer take the
 *       staged step away). Staging first removes the previous prepared entry, then writes the slot and its parity,
 *       then a prepared entry holding the record the commit will write, framed and checked like a commit entry. A
 *       crash before that entry is complete leaves no prepared step; after it, reopening finds the staged step again
 *       and {@link #commit} can make it the committed one. {@link #abort} removes the entry.</li>
 * </ul>
 * On open the map is recovered, the newest commit record whose slot verifies (rebuilding at most one entry) is
 * chosen, anything rebuilt is written back, and only that slot is served. A prepared entry counts only if it names
 * the step after the committed one, in the other slot, and that slot verifies against it.
 *
 * <p>A map file is used by one process at a time: a lock on {@code <file>.lock} (released by the OS when the process
 * dies) makes recovery safe. Not thread-safe: one shard actor owns it.
 */
public final class ShardStore implements AutoCloseable {
  /**
   * Default payload bytes per entry. Larger chunks mean fewer entries (less per-entry overhead in the map and on
   * recovery); smaller ones mean less waste at the end of each tensor and a smaller parity entry.
   */
  public static final int DEFAULT_CHUNK_BYTES = 64 * 1024;
  /** Entries the map is sized for beyond what the layout needs, so the map never fills. */
  private static final double ENTRIES_HEADROOM = 1.25;

  private final Path file;
  private final long jobFingerprint;
  private final ParameterManifest manifest;
  private final long manifestHash;
  private final SlotLayout layout;
  private final int valueSize;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final ChronicleMap<Long, byte[]> map;
  private final OpenReport openReport;

  /** The committed step's record, or null before {@link #initialise}. */
  private CommitRecord committed;
  /**
   * What {@link #stage} wrote (or what the prepared entry named when the store was opened) and {@link #commit} will
   * make durable, or null.
   */
  private CommitRecord staged;
  /** Called between any two map writes; tests widen the crash window with it. */
  private Runnable betweenWrites = () -> {};

  /** What opening found and repaired: for logs and tests. */
  public record OpenReport(boolean existed, long committedStep, long preparedStep, int corruptionsReportedByMap,
      int entriesRebuilt, boolean commitRecordsRewritten, List<String> discarded) {}

  private ShardStore(Path file, long jobFingerprint, ParameterManifest manifest, int chunkBytes, FileChannel lockChannel,
      FileLock lock) throws IOException {
    this.file = file;
    this.jobFingerprint = jobFingerprint;
    this.manifest = manifest;
    this.manifestHash = SlotLayout.manifestHash(manifest);
    this.layout = new SlotLayout(manifest, chunkBytes);
    this.valueSize = EntryFrame.HEADER + chunkBytes;
    this.lockChannel = lockChannel;
    this.lock = lock;
    boolean existed = Files.exists(file);
    List<String> corruptions = new ArrayList<>();
    this.map = openMap(existed, corruptions);
    List<String> discarded = new ArrayList<>();
    int[] rebuilt = new int[1];
    boolean rewritten;
    try {
      rewritten = recover(discarded, rebuilt);
      staged = recoverPrepared(discarded, rebuilt);
    } catch (RuntimeException e) {
      map.close();
      throw e;
    }
    this.openReport = new OpenReport(existed, committedStep(), preparedStep(), corruptions.size(), rebuilt[0],
        rewritten, List.copyOf(discarded));
  }

  /**
   * Opens (creating if absent, recovering after a crash) the store of a shard holding {@code shardManifest} for the
   * job {@code jobFingerprint}, with entries of {@link #DEFAULT_CHUNK_BYTES}.
   *
   * @throws ShardStoreException if the file belongs to another job or manifest, is in use by another process, or
   *     holds no committed step that verifies
   */
  public static ShardStore open(Path file, long jobFingerprint, ParameterManifest shardManifest) {
    return open(file, jobFingerprint, shardManifest, DEFAULT_CHUNK_BYTES);
  }

  /** As {@link #open(Path, long, ParameterManifest)}, with entries of {@code chunkBytes} payload bytes. */
  public static ShardStore open(Path file, long jobFingerprint, ParameterManifest shardManifest, int chunkBytes) {
    FileChannel ch = null;
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      ch = FileChannel.open(lockFile(file), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      FileLock lock;
      try {
        lock = ch.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null; // held by this JVM
      }
      if (lock == null) {
        throw new ShardStoreException("shard file " + file + " is in use by another process (" + lockFile(file)
            + " is locked): stop that shard first, or give this one its own file");
      }
      return new ShardStore(file, jobFingerprint, shardManifest, chunkBytes, ch, lock);
    } catch (IOException e) {
      closeQuietly(ch);
      throw new ShardStoreException("cannot open shard file " + file + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      closeQuietly(ch);
      throw e;
    }
  }

  private static Path lockFile(Path file) {
    return file.resolveSibling(file.getFileName() + ".lock");
  }

  private static void closeQuietly(FileChannel ch) {
    if (ch != null) {
      try {
        ch.close();
      } catch (IOException ignored) {
        // nothing more to release
      }
    }
  }

  private ChronicleMap<Long, byte[]> openMap(boolean existed, List<String> corruptions) throws IOException {
    long perSlot = layout.paramChunks() + SlotLayout.stateChunks(layout.maxStateBytes(), layout.chunkBytes()) + 1;
    // Two slots, two commit entries; the prepared entry lives in the fixed slack (changing this formula would change
    // the sizing of maps already on disk, which are recovered with the builder's configuration).
    long entries = (long) Math.ceil((2 * perSlot + 2) * ENTRIES_HEADROOM) + 16;
    ChronicleMapBuilder<Long, byte[]> builder = ChronicleMapBuilder.of(Long.class, byte[].class)
        .name("vitfleet-shard")
        .entries(entries)
        .constantValueSizeBySample(new byte[valueSize]);
    if (!existed) {
      // Created under another name and moved into place, so an existing file always has a complete header.
      Path creating = file.resolveSibling(file.getFileName() + ".creating");
      Files.deleteIfExists(creating);
      builder.createPersistedTo(creating.toFile()).close();
      Files.move(creating, file, StandardCopyOption.ATOMIC_MOVE);
    }
    // Always recover: the lock proves no live process has the map open, and recovery clears what a killed one
    // left (segment locks it held, the entry it was writing). On a cleanly closed file it changes nothing.
    return builder.recoverPersistedTo(file.toFile(), true, c -> corruptions.add(c.message()));
  }

  /** Chooses the committed step; returns whether the commit records were rewritten. */
  private boolean recover(List<String> discarded, int[] rebuilt) {
    List<CommitRecord> records = new ArrayList<>();
    byte[][] raw = new byte[2][];
    for (int copy = 0; copy < 2; copy++) {
      long key = SlotLayout.commitKey(copy);
      raw[copy] = map.get(key);
      if (raw[copy] != null && raw[copy].length != valueSize) {
        throw new ShardStoreException("shard file " + file + " was written with chunks of "
            + (raw[copy].length - EntryFrame.HEADER) + " bytes, not " + layout.chunkBytes()
            + ": open it with the chunk size it was created with");
      }
      String why = EntryFrame.check(raw[copy], valueSize, EntryFrame.COMMIT, 0, -1, key, CommitRecord.BYTES);
      if (why != null) {
        if (raw[copy] != null) {
          discarded.add("commit record " + copy + " " + why);
        }
        continue;
      }
      CommitRecord r = CommitRecord.from(raw[copy]);
      if (r.jobFingerprint() != jobFingerprint) {
        throw new ShardStoreException("shard file " + file + " belongs to job 0x" + Long.toHexString(r.jobFingerprint())
            + " (committed step " + r.step() + "), not to this job 0x" + Long.toHexString(jobFingerprint)
            + ": refusing to start. Give this job its own shard directory, or delete the file to start afresh.");
      }
      if (r.manifestHash() != manifestHash) {
        throw new ShardStoreException("shard file " + file + " holds another set of tensors (manifest hash 0x"
            + Long.toHexString(r.manifestHash()) + ") than this shard's " + manifest + " (0x"
            + Long.toHexString(manifestHash) + "): refusing to start. Was the plan's shard assignment changed?");
      }
      if (r.chunkBytes() != layout.chunkBytes()) {
        throw new ShardStoreException("shard file " + file + " was written with chunks of " + r.chunkBytes()
            + " bytes, not " + layout.chunkBytes() + ": open it with the chunk size it was created with");
      }
      records.add(r);
    }
    records.sort((a, b) -> Long.compare(b.step(), a.step()));
    for (CommitRecord r : records) {
      String why = verifySlot(r, rebuilt);
      if (why == null) {
        committed = r;
        // Rewrite only the copies that are not already this record: rewriting a good copy could lose it to a crash
        // while the other copy is the one being repaired.
        boolean rewritten = false;
        for (int copy = 0; copy < 2; copy++) {
          if (!r.equals(validRecord(raw[copy], copy))) {
            writeCommitRecord(r, copy);
            rewritten = true;
          }
        }
        return rewritten;
      }
      discarded.add("step " + r.step() + " (slot " + r.slot() + ") " + why);
    }
    if (!records.isEmpty()) {
      throw new ShardStoreException("shard file " + file + " has no committed step whose slot verifies: "
          + discarded + ". More than one entry was lost or damaged, which a crash alone does not do; restore the "
          + "shard from a checkpoint export.");
    }
    // No commit record: never initialised, or killed while initialising (step 0 was never committed).
    return false;
  }

  /**
   * The staged step the prepared entry names, if it is the step after the committed one, in the staging slot, of
   * this job and manifest, and that slot verifies against it (rebuilding at most one entry of the staging slot; the
   * committed slot is never written here). Otherwise null: the step was never prepared, or was committed since.
   */
  private CommitRecord recoverPrepared(List<String> discarded, int[] rebuilt) {
    long key = SlotLayout.preparedKey();
    byte[] v = map.get(key);
    if (v == null) {
      return null;
    }
    String why = EntryFrame.check(v, valueSize, EntryFrame.PREPARED, 0, -1, key, CommitRecord.BYTES);
    if (why != null) {
      discarded.add("prepared record " + why);
      return null;
    }
    CommitRecord r = CommitRecord.from(v);
    if (r.step() != committedStep() + 1) {
      return null; // committed since (a leftover that the next stage removes), or older still
    }
    int slot = committed == null ? 0 : 1 - committed.slot();
    if (r.slot() != slot || r.jobFingerprint() != jobFingerprint || r.manifestHash() != manifestHash
        || r.chunkBytes() != layout.chunkBytes()) {
      discarded.add("prepared step " + r.step() + " names slot " + r.slot() + ", job 0x"
          + Long.toHexString(r.jobFingerprint()) + ", manifest 0x" + Long.toHexString(r.manifestHash()) + ", chunks of "
          + r.chunkBytes() + " bytes: not this shard's staging slot " + slot);
      return null;
    }
    String slotWhy = verifySlot(r, rebuilt);
    if (slotWhy != null) {
      discarded.add("prepared step " + r.step() + " (slot " + r.slot() + ") " + slotWhy);
      return null;
    }
    return r;
  }

  private CommitRecord validRecord(byte[] v, int copy) {
    String why = EntryFrame.check(v, valueSize, EntryFrame.COMMIT, 0, -1, SlotLayout.commitKey(copy),
        CommitRecord.BYTES);
    return why == null ? CommitRecord.from(v) : null;
  }

  /**
   * Why the slot of {@code r} is not exactly what {@code r} committed, or null if it is, after rebuilding (and writing
   * back) at most one lost data entry from parity, or rewriting a lost parity entry.
   */
  private String verifySlot(CommitRecord r, int[] rebuilt) {
    int n = layout.paramChunks() + r.stateChunks();
    if (r.stateChunks() != SlotLayout.stateChunks(r.stateBytes(), layout.chunkBytes())) {
      return "has inconsistent state size " + r.stateBytes() + " / " + r.stateChunks() + " chunks";
    }
    int[] crcs = new int[n];
    int missing = -1;
    String missingWhy = null;
    for (int i = 0; i < n; i++) {
      long key = SlotLayout.dataKey(r.slot(), i);
      int len = layout.payloadLength(i, r.stateBytes());
      byte[] v = map.get(key);
      String why = EntryFrame.check(v, valueSize, layout.kind(i), r.slot(), r.step(), key, len);
      if (why != null) {
        if (missing >= 0) {
          return "has two bad entries: " + i + " " + why + ", and " + missing + " " + missingWhy;
        }
        missing = i;
        missingWhy = why;
        continue;
      }
      crcs[i] = EntryFrame.payloadCrc(v, EntryFrame.HEADER, len);
    }
    long parityKey = SlotLayout.parityKey(r.slot());
    byte[] parity = map.get(parityKey);
    String parityWhy = EntryFrame.check(parity, valueSize, EntryFrame.PARITY, r.slot(), r.step(), parityKey,
        layout.chunkBytes());
    if (missing < 0) {
      if (digest(crcs) != r.digest()) {
        return "does not match its commit digest";
      }
      if (parityWhy != null) {
        byte[] xor = new byte[layout.chunkBytes()];
        for (int i = 0; i < n; i++) {
          xorInto(xor, map.get(SlotLayout.dataKey(r.slot(), i)), layout.payloadLength(i, r.stateBytes()));
        }
        map.put(parityKey, EntryFrame.encode(valueSize, EntryFrame.PARITY, r.slot(), r.step(), parityKey, xor,
            xor.length));
        rebuilt[0]++;
      }
      return null;
    }
    if (parityWhy != null) {
      return "has a bad entry " + missing + " (" + missingWhy + ") and its parity " + parityWhy;
    }
    byte[] payload = Arrays.copyOfRange(parity, EntryFrame.HEADER, EntryFrame.HEADER + layout.chunkBytes());
    for (int i = 0; i < n; i++) {
      if (i != missing) {
        xorInto(payload, map.get(SlotLayout.dataKey(r.slot(), i)), layout.payloadLength(i, r.stateBytes()));
      }
    }
    int len = layout.payloadLength(missing, r.stateBytes());
    crcs[missing] = EntryFrame.payloadCrc(payload, 0, len);
    if (digest(crcs) != r.digest()) {
      return "has a bad entry " + missing + " (" + missingWhy + ") that parity does not rebuild";
    }
    long key = SlotLayout.dataKey(r.slot(), missing);
    map.put(key, EntryFrame.encode(valueSize, layout.kind(missing), r.slot(), r.step(), key, payload, len));
    rebuilt[0]++;
    return null;
  }

  private static void xorInto(byte[] acc, byte[] value, int length) {
    for (int j = 0; j < length; j++) {
      acc[j] ^= value[EntryFrame.HEADER + j];
    }
  }

  private static int digest(int[] crcs) {
    ByteBuffer b = ByteBuffer.allocate(4 * crcs.length).order(ByteOrder.LITTLE_ENDIAN);
    for (int c : crcs) {
      b.putInt(c);
    }
    CRC32C c = new CRC32C();
    c.update(b.array());
    return (int) c.getValue();
  }

  /** What opening found and repaired. */
  public OpenReport openReport() {
    return openReport;
  }

  public Path file() {
    return file;
  }

  public ParameterManifest manifest() {
    return manifest;
  }

  /** Whether a step (at least step 0, by {@link #initialise}) has been committed. */
  public boolean isInitialised() {
    return committed != null;
  }

  /** The committed step, or -1 before {@link #initialise}. */
  public long committedStep() {
    return committed == null ? -1 : committed.step();
  }

  /** The plan version the committed step was committed under, or -1 before {@link #initialise}. */
  public long committedPlanVersion() {
    return committed == null ? -1 : committed.planVersion();
  }

  /**
   * The step staged and durable but not committed: committed + 1 once {@link #stage} has returned (or when the store
   * was reopened with such a step prepared), until {@link #commit} or {@link #abort}; else -1.
   */
  public long preparedStep() {
    return staged == null ? -1 : staged.step();
  }

  /** The plan version the prepared step was staged under, or -1 when none is prepared. */
  public long preparedPlanVersion() {
    return staged == null ? -1 : staged.planVersion();
  }

  /** The slot (0 or 1) holding the committed step; -1 before {@link #initialise}. */
  public int committedSlot() {
    return committed == null ? -1 : committed.slot();
  }

  /** Commits step 0: the initial parameters and optimizer state of a new shard. */
  public void initialise(long planVersion, FlatFloats params, OptimizerState state) {
    if (committed != null) {
      throw new IllegalStateException("shard file " + file + " is already initialised (committed step "
          + committed.step() + ")");
    }
    stage(0, planVersion, params, state);
    commit(0);
  }

  /**
   * Writes step {@code step}'s parameters and optimizer state to the staging slot and records it prepared: on return
   * it survives kill -9 (reopening reports it as {@link #preparedStep()} and {@link #commit} still works). Nothing
   * committed changes: a crash or {@link #abort} now leaves the committed step as it was. Staging again replaces a
   * step already prepared.
   */
  public void stage(long step, long planVersion, FlatFloats params, OptimizerState state) {
    if (step != committedStep() + 1) {
      throw new IllegalArgumentException("cannot stage step " + step + " in " + file + ": the committed step is "
          + committedStep() + ", so the next is " + (committedStep() + 1));
    }
    if (!params.manifest().equals(manifest) || !state.manifest().equals(manifest)) {
      throw new IllegalArgumentException("stage of step " + step + ": parameters for " + params.manifest()
          + " and state for " + state.manifest() + " do not match this shard's " + manifest);
    }
    staged = null;
    // The staging slot is about to be overwritten: forget the prepared record first, so that from here on a crash can
    // present neither a half-written slot nor an earlier (aborted) attempt's content as prepared.
    delete(SlotLayout.preparedKey());
    int slot = committed == null ? 0 : 1 - committed.slot();
    ByteBuffer floats = ByteBuffer.allocate(layout.chunkBytes()).order(ByteOrder.LITTLE_ENDIAN);
    SlotWriter w = new SlotWriter(slot, step);
    for (int t = 0; t < manifest.count(); t++) {
      float[] a = params.array(t);
      int base = params.offset(t);
      int size = (int) manifest.get(t).size();
      for (int off = 0; off < size; off += layout.floatsPerChunk()) {
        int count = Math.min(layout.floatsPerChunk(), size - off);
        floats.clear();
        floats.asFloatBuffer().put(a, base + off, count);
        w.put(floats.array(), count * 4);
      }
    }
    long stateBytes;
    try (ChunkingStream out = new ChunkingStream(w)) {
      state.writeTo(out);
      out.finish();
      stateBytes = out.total;
    } catch (IOException e) {
      throw new ShardStoreException("cannot stage step " + step + " in " + file + ": " + e.getMessage(), e);
    }
    long parityKey = SlotLayout.parityKey(slot);
    betweenWrites.run();
    write(parityKey, EntryFrame.encode(valueSize, EntryFrame.PARITY, slot, step, parityKey, w.parity,
        w.parity.length));
    CommitRecord r = new CommitRecord(step, slot, planVersion, jobFingerprint, manifestHash, layout.chunkBytes(),
        stateBytes, SlotLayout.stateChunks(stateBytes, layout.chunkBytes()), digest(w.crcs()));
    byte[] payload = r.payload();
    long preparedKey = SlotLayout.preparedKey();
    betweenWrites.run();
    write(preparedKey, EntryFrame.encode(valueSize, EntryFrame.PREPARED, slot, step, preparedKey, payload,
        payload.length));
    staged = r;
  }

  /**
   * Makes the staged (prepared) step the committed one: on return it survives kill -9. Works as well on a step found
   * prepared when the store was reopened.
   */
  public void commit(long step) {
    if (staged == null || staged.step() != step) {
      throw new IllegalStateException("cannot commit step " + step + " in " + file + ": "
          + (staged == null ? "nothing is staged" : "the staged step is " + staged.step()));
    }
    writeCommitRecords(staged);
    committed = staged;
    staged = null;
  }

  /**
   * Forgets the staged step, durably: its prepared entry is removed, so a reopened store no longer reports it. The
   * staging slot itself is simply overwritten by the next {@link #stage}.
   */
  public void abort() {
    staged = null;
    delete(SlotLayout.preparedKey());
  }

  private void writeCommitRecords(CommitRecord r) {
    for (int copy = 0; copy < 2; copy++) {
      writeCommitRecord(r, copy);
    }
  }

  private void writeCommitRecord(CommitRecord r, int copy) {
    byte[] payload = r.payload();
    long key = SlotLayout.commitKey(copy);
    betweenWrites.run();
    write(key, EntryFrame.encode(valueSize, EntryFrame.COMMIT, 0, r.step(), key, payload, payload.length));
  }

  /** The committed parameters, one array per tensor. */
  public FlatFloats committedParams() {
    float[][] tensors = new float[manifest.count()][];
    for (int t = 0; t < tensors.length; t++) {
      tensors[t] = committedParams(t);
    }
    return FlatFloats.ofTensors(manifest, tensors);
  }

  /** The committed parameters of tensor {@code tensor} (manifest index). */
  public float[] committedParams(int tensor) {
    CommitRecord r = requireCommitted();
    float[] out = new float[(int) manifest.get(tensor).size()];
    for (int c = 0; c < layout.chunks(tensor); c++) {
      int index = layout.firstChunk(tensor) + c;
      byte[] v = committedEntry(r, index);
      int len = layout.payloadLength(index, r.stateBytes());
      ByteBuffer.wrap(v, EntryFrame.HEADER, len).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer()
          .get(out, c * layout.floatsPerChunk(), len / 4);
    }
    return out;
  }

  /** The committed optimizer state. */
  public OptimizerState committedState() {
    CommitRecord r = requireCommitted();
    List<InputStream> parts = new ArrayList<>();
    for (int c = 0; c < r.stateChunks(); c++) {
      int index = layout.paramChunks() + c;
      parts.add(new ByteArrayInputStream(committedEntry(r, index), EntryFrame.HEADER,
          layout.payloadLength(index, r.stateBytes())));
    }
    Enumeration<InputStream> e = Collections.enumeration(parts);
    try (InputStream in = new SequenceInputStream(e)) {
      return OptimizerState.readFrom(in, manifest);
    } catch (IOException ex) {
      throw new ShardStoreException("optimizer state of committed step " + r.step() + " in " + file
          + " does not read back: " + ex.getMessage(), ex);
    }
  }

  private CommitRecord requireCommitted() {
    if (committed == null) {
      throw new IllegalStateException("shard file " + file + " holds no committed step yet: initialise it first");
    }
    return committed;
  }

  private byte[] committedEntry(CommitRecord r, int index) {
    long key = SlotLayout.dataKey(r.slot(), index);
    byte[] v = map.get(key);
    String why = EntryFrame.check(v, valueSize, layout.kind(index), r.slot(), r.step(), key,
        layout.payloadLength(index, r.stateBytes()));
    if (why != null) {
      throw new ShardStoreException("entry " + index + " (key 0x" + Long.toHexString(key) + ") of committed step "
          + r.step() + " in " + file + " " + why + "; reopen the shard to rebuild it from parity");
    }
    return v;
  }

  /**
   * {@code map.put(key, value)} without its return value: a put reads the previous value back into a new array,
   * which {@link #stage} and {@link #commit} never need (64 KiB of garbage and copying per entry).
   */
  private void write(long key, byte[] value) {
    try (ExternalMapQueryContext<Long, byte[], ?> c = map.queryContext(key)) {
      c.updateLock().lock();
      MapEntry<Long, byte[]> entry = c.entry();
      if (entry != null) {
        c.replaceValue(entry, c.wrapValueAsData(value));
      } else {
        c.insert(c.absentEntry(), c.wrapValueAsData(value));
      }
    }
  }

  /** {@code map.remove(key)} without reading the removed value back. */
  private void delete(long key) {
    try (ExternalMapQueryContext<Long, byte[], ?> c = map.queryContext(key)) {
      c.updateLock().lock();
      MapEntry<Long, byte[]> entry = c.entry();
      if (entry != null) {
        c.remove(entry);
      }
    }
  }

  /** Test hook: runs between any two writes of {@link #stage} and {@link #commit} (its first write is a removal). */
  void betweenWrites(Runnable hook) {
    this.betweenWrites = hook;
  }

  /** The underlying map, for tests that simulate lost or damaged entries. */
  ChronicleMap<Long, byte[]> map() {
    return map;
  }

  SlotLayout layout() {
    return layout;
  }

  @Override
  public void close() {
    try {
      map.close();
    } finally {
      try {
        lock.release();
      } catch (IOException ignored) {
        // closing the channel releases it too
      }
      closeQuietly(lockChannel);
    }
  }

  /** Writes a slot's data entries in order, keeping their parity and payload CRCs. */
  private final class SlotWriter {
    private final int slot;
    private final long step;
    private final byte[] parity = new byte[layout.chunkBytes()];
    /** One value buffer for every entry of the slot (the map copies what is put): no 64 KiB garbage per entry. */
    private final byte[] value = new byte[valueSize];
    private int valueUsed;
    private int[] crcs = new int[64];
    private int next;

    SlotWriter(int slot, long step) {
      this.slot = slot;
      this.step = step;
    }

    void put(byte[] payload, int length) {
      int index = next++;
      long key = SlotLayout.dataKey(slot, index);
      EntryFrame.encodeInto(value, valueUsed, layout.kind(index), slot, step, key, payload, length);
      valueUsed = length;
      betweenWrites.run();
      write(key, value);
      for (int j = 0; j < length; j++) {
        parity[j] ^= payload[j];
      }
      if (index == crcs.length) {
        crcs = Arrays.copyOf(crcs, 2 * index);
      }
      crcs[index] = EntryFrame.payloadCrc(payload, 0, length);
    }

    int[] crcs() {
      return Arrays.copyOf(crcs, next);
    }
  }

  /** Cuts the serialised optimizer state into chunk-sized data entries. */
  private final class ChunkingStream extends OutputStream {
    private final SlotWriter writer;
    private final byte[] buf = new byte[layout.chunkBytes()];
    private int filled;
    private long total;

    ChunkingStream(SlotWriter writer) {
      this.writer = writer;
    }

    @Override
    public void write(int b) {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) {
      while (len > 0) {
        if (filled == buf.length) {
          emit();
        }
        int n = Math.min(len, buf.length - filled);
        System.arraycopy(b, off, buf, filled, n);
        filled += n;
        off += n;
        len -= n;
        total += n;
      }
    }

    /** Emits the last, partial chunk; called once, when the state is fully written (not on flush). */
    void finish() {
      if (filled > 0) {
        emit();
      }
    }

    private void emit() {
      writer.put(buf, filled);
      filled = 0;
    }
  }
}
