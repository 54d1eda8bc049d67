package io.vitfleet.protocol.link;

import io.aeron.ExclusivePublication;
import io.aeron.Publication;
import io.aeron.logbuffer.BufferClaim;
import io.vitfleet.protocol.frame.FrameHeader;
import io.vitfleet.protocol.frame.TensorChunker;
import io.vitfleet.protocol.frame.TensorDescriptor;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Sends tensors as chunked, checksummed frames over one Aeron {@link ExclusivePublication}. Chunks are sized to
 * one MTU by default, so each is written straight into the term buffer with {@code tryClaim} (one copy, CRC
 * computed in place) and arrives unfragmented; with a larger frame length each chunk is a vectored offer of the
 * header and the payload where it lies (still one copy), fragmented and reassembled by Aeron.
 *
 * <p>Hot path: returns codes, never throws for transport conditions. Back pressure is retried with the idle
 * strategy until a deadline; what to do after that (abort the step) is the caller's choice. A tensor that fails
 * part-way leaves an unfinished tensor at the receiver, which its reassembler abandons at the next step or plan.
 * Not thread-safe: one sending thread per publisher (that is what makes the publication exclusive).
 */
public final class TensorPublisher implements AutoCloseable {
  /**
   * How long a chunk may wait on back pressure before {@link #publish} gives up with
   * {@link Publication#BACK_PRESSURED}: 5 s. Long enough to ride out a receiver's GC pause or a slow stage, short
   * enough that a stuck receiver fails the step well before the step deadline.
   */
  public static final long DEFAULT_BACK_PRESSURE_TIMEOUT_NS = 5_000_000_000L;

  private final ExclusivePublication publication;
  private final IdleStrategy idle;
  private final long backPressureTimeoutNs;
  private final TensorChunker chunker;
  private final boolean claimable;
  private final BufferClaim claim = new BufferClaim();
  private final UnsafeBuffer headerScratch = new UnsafeBuffer(new byte[FrameHeader.LENGTH]);

  /** A publisher whose chunks are one MTU each (zero-copy claims, no fragmentation). */
  public TensorPublisher(ExclusivePublication publication, IdleStrategy idle) {
    this(publication, idle, publication.maxPayloadLength(), DEFAULT_BACK_PRESSURE_TIMEOUT_NS);
  }

  /**
   * @param maxFrameLength frame bytes per chunk, header included; capped at the publication's largest message
   *     (term length / 8)
   */
  public TensorPublisher(ExclusivePublication publication, IdleStrategy idle, int maxFrameLength,
      long backPressureTimeoutNs) {
    this.publication = publication;
    this.idle = idle;
    this.backPressureTimeoutNs = backPressureTimeoutNs;
    int frameLength = Math.min(maxFrameLength, publication.maxMessageLength());
    this.chunker = new TensorChunker(frameLength);
    this.claimable = frameLength <= publication.maxPayloadLength();
  }

  /** Payload bytes per chunk. */
  public int chunkPayloadBytes() {
    return chunker.stride();
  }

  public boolean isConnected() {
    return publication.isConnected();
  }

  public ExclusivePublication publication() {
    return publication;
  }

  /**
   * Sends the tensor described by {@code tensor} whose bytes are {@code src[srcOffset, srcOffset +
   * tensor.tensorBytes())}. Returns the number of chunks sent (>= 1), or a negative Aeron code: {@link
   * Publication#NOT_CONNECTED} (no subscriber; returned at once), {@link Publication#BACK_PRESSURED} (the deadline
   * passed), {@link Publication#CLOSED} or {@link Publication#MAX_POSITION_EXCEEDED} (the link is finished).
   */
  public long publish(TensorDescriptor tensor, DirectBuffer src, int srcOffset) {
    int chunks = chunker.chunkCount(tensor.tensorBytes());
    for (int i = 0; i < chunks; i++) {
      long result = claimable ? sendClaimed(tensor, src, srcOffset, i) : sendVectored(tensor, src, srcOffset, i);
      if (result < 0) {
        return result;
      }
    }
    return chunks;
  }

  private long sendClaimed(TensorDescriptor tensor, DirectBuffer src, int srcOffset, int index) {
    int length = chunker.frameLength(tensor.tensorBytes(), index);
    long deadline = 0;
    idle.reset();
    while (true) {
      long position = publication.tryClaim(length, claim);
      if (position > 0) {
        try {
          chunker.writeFrame(tensor, src, srcOffset, index, claim.buffer(), claim.offset());
          claim.commit();
        } catch (RuntimeException e) {
          claim.abort();
          throw e;
        }
        return position;
      }
      deadline = retryOrGiveUp(position, deadline);
      if (deadline < 0) {
        return position;
      }
    }
  }

  private long sendVectored(TensorDescriptor tensor, DirectBuffer src, int srcOffset, int index) {
    int payloadOffset = chunker.writeHeader(tensor, src, srcOffset, index, headerScratch, 0);
    int payloadLength = chunker.payloadLength(tensor.tensorBytes(), index);
    long deadline = 0;
    idle.reset();
    while (true) {
      long position = publication.offer(headerScratch, 0, FrameHeader.LENGTH, src, payloadOffset, payloadLength);
      if (position > 0) {
        return position;
      }
      deadline = retryOrGiveUp(position, deadline);
      if (deadline < 0) {
        return position;
      }
    }
  }

  /**
   * Idles and returns the deadline to keep trying until, or -1 to give up with {@code code}: at once when the link
   * is gone, after the back-pressure timeout when it is only busy (BACK_PRESSURED, ADMIN_ACTION).
   */
  private long retryOrGiveUp(long code, long deadline) {
    if (code == Publication.NOT_CONNECTED || code == Publication.CLOSED
        || code == Publication.MAX_POSITION_EXCEEDED) {
      return -1;
    }
    long now = System.nanoTime();
    if (deadline == 0) {
      deadline = now + backPressureTimeoutNs;
    } else if (now - deadline > 0) {
      return -1;
    }
    idle.idle();
    return deadline;
  }

  @Override
  public void close() {
    publication.close();
  }
}
