package io.vitfleet.protocol.control;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;

/**
 * Every message of the control plane (Pekko): small records, serialised with Jackson CBOR by {@link ControlCodec},
 * never Java serialisation. Tensors never travel here; they go over the Aeron data plane as frames. The type name
 * on the wire is the one in {@link JsonSubTypes} below: renaming a record does not change the wire.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "@type")
@JsonSubTypes({
    @JsonSubTypes.Type(value = Begin.class, name = "begin"),
    @JsonSubTypes.Type(value = GroupSumReady.class, name = "group-sum-ready"),
    @JsonSubTypes.Type(value = NormPartial.class, name = "norm-partial"),
    @JsonSubTypes.Type(value = GlobalNorm.class, name = "global-norm"),
    @JsonSubTypes.Type(value = Prepared.class, name = "prepared"),
    @JsonSubTypes.Type(value = Commit.class, name = "commit"),
    @JsonSubTypes.Type(value = Abort.class, name = "abort"),
    @JsonSubTypes.Type(value = Plan.class, name = "plan"),
    @JsonSubTypes.Type(value = JobSpec.class, name = "job-spec"),
    @JsonSubTypes.Type(value = WorkerInfo.class, name = "worker-info"),
    @JsonSubTypes.Type(value = Hello.class, name = "hello"),
    @JsonSubTypes.Type(value = Install.class, name = "install"),
    @JsonSubTypes.Type(value = Ready.class, name = "ready"),
    @JsonSubTypes.Type(value = StageDone.class, name = "stage-done"),
    @JsonSubTypes.Type(value = Committed.class, name = "committed"),
    @JsonSubTypes.Type(value = DataPlaneMetrics.class, name = "data-plane-metrics")
})
public sealed interface ControlMessage permits StepMessage, Plan, JobSpec, WorkerInfo, Hello, Install, Ready,
    DataPlaneMetrics {
}
