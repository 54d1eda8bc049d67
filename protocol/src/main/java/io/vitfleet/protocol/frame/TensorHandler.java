package io.vitfleet.protocol.frame;

/** Receives each tensor the moment its last chunk has arrived and been checked. */
@FunctionalInterface
public interface TensorHandler {
  /**
   * Called on the receiving thread. The tensor and its bytes are valid only during the call (the reassembler reuses
   * the memory): copy what must outlive it.
   */
  void onTensor(ReceivedTensor tensor);
}
