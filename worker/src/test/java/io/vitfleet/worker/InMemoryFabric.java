package io.vitfleet.worker;

import io.vitfleet.protocol.control.Endpoint;
import io.vitfleet.protocol.frame.DType;
import io.vitfleet.protocol.frame.FrameKind;
import io.vitfleet.protocol.frame.TensorDescriptor;
import io.vitfleet.protocol.link.DataPlane;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The data plane of a test cluster in one JVM: a send to a worker lands in that worker's {@link TensorMailbox}; a
 * send to a shard is recorded as a weight-gradient group sum. Thread-safe, so executors on several threads share it.
 */
final class InMemoryFabric implements TensorOutbox {
  /** A group sum received by a shard: group g of manifest tensor {@code tensorId}. */
  record GroupTensor(int group, int tensorId) {
  }

  private final Map<String, TensorMailbox> workers = new ConcurrentHashMap<>();
  private final Map<GroupTensor, float[]> groupSums = new ConcurrentHashMap<>();

  /** The mailbox of worker {@code memberId}, which accepts plan {@code version}. */
  TensorMailbox join(String memberId, int version) {
    TensorMailbox box = new TensorMailbox();
    box.acceptPlan(version);
    workers.put(memberId, box);
    return box;
  }

  Map<GroupTensor, float[]> groupSums() {
    return groupSums;
  }

  @Override
  public void send(Endpoint peer, TensorDescriptor d, float[] data, int offset, int length) {
    if (d.tensorBytes() != (long) length * Float.BYTES) {
      throw new IllegalArgumentException(d.kind() + " to " + peer.memberId() + ": shape holds "
          + d.tensorBytes() + " bytes but " + length + " floats were given");
    }
    float[] copy = Arrays.copyOfRange(data, offset, offset + length);
    if (peer.memberId().startsWith("shard-")) {
      if (d.kind() != FrameKind.WEIGHT_GRAD_GROUP_SUM) {
        throw new IllegalArgumentException("a shard was sent " + d.kind());
      }
      if (groupSums.put(new GroupTensor(d.microbatchOrGroup(), d.tensorId()), copy) != null) {
        throw new IllegalStateException("group " + d.microbatchOrGroup() + " of tensor " + d.tensorId()
            + " was sent twice");
      }
      return;
    }
    TensorMailbox box = workers.get(peer.memberId());
    if (box == null) {
      throw new IllegalArgumentException("no worker " + peer.memberId() + " in this fabric");
    }
    int[] shape = new int[d.rank()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = d.dim(i);
    }
    box.put(new DataPlane.Tensor(d.kind(), d.step(), d.planVersion(), d.microbatchOrGroup(), d.stage(),
        d.tensorId(), DType.F32, shape, copy, null));
  }
}
