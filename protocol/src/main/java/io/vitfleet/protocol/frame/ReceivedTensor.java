package io.vitfleet.protocol.frame;

import org.agrona.DirectBuffer;

/** A completely received tensor: where it belongs in the step, its type, and its bytes. A reused view. */
public interface ReceivedTensor {
  long jobId();

  int planVersion();

  long step();

  int microbatchOrGroup();

  int stage();

  FrameKind kind();

  int tensorId();

  DType dtype();

  int rank();

  int dim(int i);

  /** The tensor's bytes are {@code data()[0, byteLength())}, little-endian, row-major. */
  DirectBuffer data();

  int byteLength();
}
