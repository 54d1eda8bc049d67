package io.vitfleet.worker;

import io.vitfleet.protocol.control.Endpoint;
import io.vitfleet.protocol.frame.TensorDescriptor;

/**
 * Where a stage executor's outgoing tensors go: {@code DataPlane::send} in a worker process, an in-memory fabric in
 * tests. A send either hands the tensor to the transport or throws (the step then fails); {@code data} may be reused
 * by the caller once it returns.
 */
@FunctionalInterface
public interface TensorOutbox {
  /** Sends elements [offset, offset + length) of {@code data} as the float32 tensor {@code d} to {@code peer}. */
  void send(Endpoint peer, TensorDescriptor d, float[] data, int offset, int length);
}
