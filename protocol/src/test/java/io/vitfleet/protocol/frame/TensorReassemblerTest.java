package io.vitfleet.protocol.frame;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class TensorReassemblerTest {
  private static final long JOB = 0xC0FFEEL;
  private static final int PLAN = 3;
  /** 64-byte payloads: a 7x9 float tensor (252 bytes) becomes 4 chunks, the last one short. */
  private static final int FRAME_LENGTH = FrameHeader.LENGTH + 64;

  private final List<Received> received = new ArrayList<>();
  private final DropCounters drops = new DropCounters();
  private final TensorReassembler reassembler =
      new TensorReassembler(this::onTensor, drops, 4, 1 << 20).acceptJob(JOB);
  private final TensorChunker chunker = new TensorChunker(FRAME_LENGTH);

  TensorReassemblerTest() {
    reassembler.planVersion(PLAN);
  }

  private record Received(long step, int tensorId, FrameKind kind, int[] shape, float[] values) {
  }

  private void onTensor(ReceivedTensor t) {
    int[] shape = new int[t.rank()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = t.dim(i);
    }
    received.add(new Received(t.step(), t.tensorId(), t.kind(), shape,
        TensorBytes.toFloats(t.data(), 0, t.byteLength())));
  }

  private static float[] values(int n, int seed) {
    float[] v = new float[n];
    Random r = new Random(seed);
    for (int i = 0; i < n; i++) {
      v[i] = r.nextFloat() - 0.5f;
    }
    return v;
  }

  private static TensorDescriptor descriptor(int tensorId, int... shape) {
    return new TensorDescriptor().jobId(JOB).planVersion(PLAN).step(11).microbatchOrGroup(2).stage(1)
        .kind(FrameKind.ACTIVATION).tensorId(tensorId).dtype(DType.F32).shape(shape);
  }

  private List<UnsafeBuffer> frames(TensorDescriptor d, float[] values) {
    UnsafeBuffer src = TensorBytes.ofFloats(values);
    List<UnsafeBuffer> frames = new ArrayList<>();
    for (int i = 0; i < chunker.chunkCount(d.tensorBytes()); i++) {
      UnsafeBuffer frame = new UnsafeBuffer(new byte[chunker.frameLength(d.tensorBytes(), i)]);
      assertEquals(frame.capacity(), chunker.writeFrame(d, src, 0, i, frame, 0));
      frames.add(frame);
    }
    return frames;
  }

  private int feed(UnsafeBuffer frame) {
    return reassembler.onFrame(frame, 0, frame.capacity());
  }

  /** Rewrites a header field and recomputes the CRC, as a sender with a bug (not a flipped bit) would. */
  private static void resign(UnsafeBuffer frame) {
    FrameHeader h = new FrameHeader().wrap(frame, 0);
    h.crc(new FrameChecksum().compute(frame, 0, frame.capacity() - FrameHeader.LENGTH));
  }

  @Test
  void reassemblesAMultiChunkTensorBitExactFromChunksInAnyOrder() {
    float[] v = values(63, 1);
    List<UnsafeBuffer> frames = frames(descriptor(5, 7, 9), v);
    assertEquals(4, frames.size());
    Collections.shuffle(frames, new Random(3));
    for (int i = 0; i < frames.size() - 1; i++) {
      assertEquals(TensorReassembler.STORED, feed(frames.get(i)));
    }
    assertEquals(TensorReassembler.COMPLETED, feed(frames.get(frames.size() - 1)));

    assertEquals(1, received.size());
    Received r = received.get(0);
    assertArrayEquals(v, r.values());
    assertArrayEquals(new int[] {7, 9}, r.shape());
    assertEquals(11, r.step());
    assertEquals(5, r.tensorId());
    assertEquals(0, drops.total());
    assertEquals(0, reassembler.inFlight());
  }

  @Test
  void interleavedTensorsAreReassembledSeparately() {
    float[] a = values(63, 1);
    float[] b = values(63, 2);
    List<UnsafeBuffer> fa = frames(descriptor(1, 63), a);
    List<UnsafeBuffer> fb = frames(descriptor(2, 63), b);
    for (int i = 0; i < fa.size(); i++) {
      feed(fb.get(i));
      feed(fa.get(i));
    }
    assertEquals(2, received.size());
    assertArrayEquals(b, received.get(0).values());
    assertArrayEquals(a, received.get(1).values());
  }

  @Test
  void anEmptyTensorIsOneChunkAndIsDelivered() {
    TensorDescriptor d = descriptor(9, 0, 4);
    assertEquals(1, chunker.chunkCount(d.tensorBytes()));
    assertEquals(TensorReassembler.COMPLETED, feed(frames(d, new float[0]).get(0)));
    assertEquals(0, received.get(0).values().length);
  }

  @Test
  void aFrameWithAFlippedPayloadByteIsDroppedAsBadCrcAndTheTensorStillCompletesFromTheGoodCopy() {
    float[] v = values(63, 1);
    List<UnsafeBuffer> frames = frames(descriptor(5, 63), v);
    UnsafeBuffer corrupt = new UnsafeBuffer(frames.get(1).byteArray().clone());
    corrupt.putByte(FrameHeader.LENGTH + 10, (byte) (corrupt.getByte(FrameHeader.LENGTH + 10) ^ 0x01));

    assertEquals(TensorReassembler.DROPPED, feed(corrupt));
    assertEquals(DropReason.BAD_CRC, reassembler.lastDropReason());
    assertEquals(1, drops.get(DropReason.BAD_CRC));
    frames.forEach(this::feed);
    assertArrayEquals(v, received.get(0).values());
  }

  @Test
  void framesOfAnUnknownJobAreDroppedAndCounted() {
    List<UnsafeBuffer> frames = frames(descriptor(5, 63).jobId(JOB + 1), values(63, 1));
    frames.forEach(f -> assertEquals(TensorReassembler.DROPPED, feed(f)));
    assertEquals(frames.size(), drops.get(DropReason.UNKNOWN_JOB));
    assertEquals(0, received.size());
    assertEquals(0, reassembler.inFlight());
  }

  @Test
  void framesOfAnOlderPlanAreDroppedAsStaleAndOfANewerPlanAsFuture() {
    frames(descriptor(5, 63).planVersion(PLAN - 1), values(63, 1)).forEach(this::feed);
    frames(descriptor(6, 63).planVersion(PLAN + 1), values(63, 1)).forEach(this::feed);
    assertEquals(4, drops.get(DropReason.STALE_PLAN));
    assertEquals(4, drops.get(DropReason.FUTURE_PLAN));
    assertEquals(0, received.size());
  }

  @Test
  void aNewPlanVersionAbandonsUnfinishedTensorsOfTheOldOne() {
    List<UnsafeBuffer> frames = frames(descriptor(5, 63), values(63, 1));
    feed(frames.get(0));
    assertEquals(1, reassembler.inFlight());
    assertEquals(1, reassembler.planVersion(PLAN + 1));
    assertEquals(0, reassembler.inFlight());
    assertEquals(1, drops.abandonedTensors());
    assertEquals(TensorReassembler.DROPPED, feed(frames.get(1)));
    assertEquals(DropReason.STALE_PLAN, reassembler.lastDropReason());
  }

  @Test
  void aChunkIndexBeyondTheCountIsDroppedAsOutOfRange() {
    UnsafeBuffer frame = frames(descriptor(5, 63), values(63, 1)).get(0);
    new FrameHeader().wrap(frame, 0).chunkIndex(4);
    resign(frame);
    assertEquals(TensorReassembler.DROPPED, feed(frame));
    assertEquals(1, drops.get(DropReason.CHUNK_OUT_OF_RANGE));
  }

  @Test
  void aChunkWhoseShapeDiffersFromEarlierChunksOfTheSameTensorIsDroppedAsInconsistent() {
    List<UnsafeBuffer> frames = frames(descriptor(5, 7, 9), values(63, 1));
    List<UnsafeBuffer> reshaped = frames(descriptor(5, 9, 7), values(63, 1));
    feed(frames.get(0));
    assertEquals(TensorReassembler.DROPPED, feed(reshaped.get(1)));
    assertEquals(1, drops.get(DropReason.INCONSISTENT_CHUNK));
    for (int i = 1; i < frames.size(); i++) {
      feed(frames.get(i));
    }
    assertArrayEquals(new int[] {7, 9}, received.get(0).shape());
  }

  @Test
  void aRepeatedChunkIsDroppedAsDuplicate() {
    List<UnsafeBuffer> frames = frames(descriptor(5, 63), values(63, 1));
    feed(frames.get(0));
    assertEquals(TensorReassembler.DROPPED, feed(frames.get(0)));
    assertEquals(1, drops.get(DropReason.DUPLICATE_CHUNK));
  }

  @Test
  void framesThatDisagreeWithThemselvesOrAreTooShortAreDroppedAsMalformed() {
    UnsafeBuffer frame = frames(descriptor(5, 63), values(63, 1)).get(0);
    assertEquals(TensorReassembler.DROPPED, reassembler.onFrame(frame, 0, FrameHeader.LENGTH - 1));
    assertEquals(TensorReassembler.DROPPED, reassembler.onFrame(frame, 0, frame.capacity() - 1));
    new FrameHeader().wrap(frame, 0).tensorBytes(256);
    resign(frame);
    assertEquals(TensorReassembler.DROPPED, feed(frame));
    assertEquals(3, drops.get(DropReason.MALFORMED));
  }

  @Test
  void aTensorAboveTheSizeLimitIsRefusedBeforeAnyMemoryIsTakenForIt() {
    TensorReassembler small = new TensorReassembler(this::onTensor, drops, 4, 128).acceptJob(JOB);
    small.planVersion(PLAN);
    UnsafeBuffer frame = frames(descriptor(5, 63), values(63, 1)).get(0);
    assertEquals(TensorReassembler.DROPPED, small.onFrame(frame, 0, frame.capacity()));
    assertEquals(1, drops.get(DropReason.TOO_LARGE));
  }

  @Test
  void whenEverySlotHoldsAnUnfinishedTensorANewTensorIsDroppedUntilAStepIsAbandoned() {
    for (int id = 0; id < 4; id++) {
      feed(frames(descriptor(id, 63), values(63, id)).get(0));
    }
    UnsafeBuffer fifth = frames(descriptor(4, 63).step(12), values(63, 4)).get(0);
    assertEquals(TensorReassembler.DROPPED, feed(fifth));
    assertEquals(1, drops.get(DropReason.NO_FREE_SLOT));
    assertEquals(4, reassembler.abandonStepsBefore(12));
    assertEquals(TensorReassembler.STORED, feed(fifth));
  }

  @Test
  void theChunkerRefusesADescriptorLargerThanItsSourceBuffer() {
    UnsafeBuffer src = TensorBytes.ofFloats(new float[10]);
    UnsafeBuffer dst = new UnsafeBuffer(new byte[FRAME_LENGTH]);
    assertThrows(IllegalArgumentException.class, () -> chunker.writeFrame(descriptor(1, 11), src, 0, 0, dst, 0));
  }

  @Test
  void aHeaderOnlyChunkWithItsPayloadElsewhereCarriesTheSameCrcAsAWholeFrame() {
    TensorDescriptor d = descriptor(5, 63);
    UnsafeBuffer src = TensorBytes.ofFloats(values(63, 1));
    UnsafeBuffer whole = new UnsafeBuffer(new byte[FRAME_LENGTH]);
    UnsafeBuffer headerOnly = new UnsafeBuffer(new byte[FrameHeader.LENGTH]);
    chunker.writeFrame(d, src, 0, 2, whole, 0);
    assertEquals(128, chunker.writeHeader(d, src, 0, 2, headerOnly, 0));
    assertEquals(new FrameHeader().wrap(whole, 0).crc(), new FrameHeader().wrap(headerOnly, 0).crc());
  }
}
