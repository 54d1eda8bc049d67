package io.vitfleet.worker;

import io.vitfleet.model.ViTConfig;
import io.vitfleet.protocol.control.Endpoint;
import io.vitfleet.protocol.link.DataPlane;
import java.time.Duration;
import java.util.Objects;

/**
 * What one worker process is and runs: its member id, the job's fixed units of work (global batch B, microbatch b,
 * G groups, so K = B / b microbatches), the TensorFlow threads of every stage graph it builds, what it declares to
 * the planner, and where its data plane listens.
 *
 * @param memberId the worker's member id, {@code worker-N}
 * @param jobId the job fingerprint every frame and control message carries
 * @param model the model the job trains
 * @param threads TensorFlow intra- and inter-op threads of every {@code StageGraph} this process builds: part of what
 *     makes results bit-identical, so the same on every worker of a job
 * @param declaredMemoryBytes memory offered to the planner for parameters and activations
 * @param host the host name reported to the coordinator
 * @param aeronDir the directory of the host's Aeron media driver
 * @param streamId the data-plane stream id of this worker ({@code 3000 + n})
 * @param receiveTimeout how long a step waits for one input tensor (parameters, images, labels, activations or
 *     activation gradients) before failing; see {@link #DEFAULT_RECEIVE_TIMEOUT}
 */
public record WorkerSettings(String memberId, long jobId, ViTConfig model, int globalBatch, int microbatch,
                             int groups, int threads, long declaredMemoryBytes, String host, String aeronDir,
                             int streamId, Duration receiveTimeout) {
  /**
   * Default receive timeout: 60 s. A peer lost mid-step is normally noticed by the failure detector (~3 s) and the
   * step aborted; this bound only frees a worker whose step was never aborted. Shorter gives up sooner on a stuck
   * peer; longer tolerates a slow stage upstream (a large stage's forward on a slow host) without a false failure.
   */
  public static final Duration DEFAULT_RECEIVE_TIMEOUT = Duration.ofSeconds(60);

  public WorkerSettings {
    if (memberId == null || memberId.isBlank()) {
      throw new IllegalArgumentException("worker member id must not be empty");
    }
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(aeronDir, "aeronDir");
    Objects.requireNonNull(receiveTimeout, "receiveTimeout");
    if (globalBatch <= 0 || microbatch <= 0 || groups <= 0) {
      throw new IllegalArgumentException("worker " + memberId + ": global batch " + globalBatch + ", microbatch "
          + microbatch + " and groups " + groups + " must be positive");
    }
    if (globalBatch % microbatch != 0 || (globalBatch / microbatch) % groups != 0) {
      throw new IllegalArgumentException("worker " + memberId + ": global batch " + globalBatch + " must split into "
          + groups + " groups of whole microbatches of " + microbatch);
    }
    if (threads <= 0) {
      throw new IllegalArgumentException("worker " + memberId + ": TensorFlow threads must be positive, got "
          + threads);
    }
    if (declaredMemoryBytes <= 0) {
      throw new IllegalArgumentException("worker " + memberId + ": declared memory must be positive, got "
          + declaredMemoryBytes);
    }
    if (receiveTimeout.isNegative() || receiveTimeout.isZero()) {
      throw new IllegalArgumentException("worker " + memberId + ": receive timeout must be positive, got "
          + receiveTimeout);
    }
  }

  /** K: microbatches per step. */
  public int microbatches() {
    return globalBatch / microbatch;
  }

  /** K / G: microbatches per accumulation group. */
  public int microbatchesPerGroup() {
    return microbatches() / groups;
  }

  /** Where this worker's data plane listens: IPC on the host's media driver, on its own stream. */
  public Endpoint endpoint() {
    return DataPlane.ipcEndpoint(memberId, streamId);
  }

  /**
   * Connects this worker's data plane to the media driver in {@link #aeronDir}, delivering every tensor that
   * arrives into {@code mailbox}: the wiring {@link WorkerActor#create} expects. The caller closes it after the
   * actor stopped.
   */
  public DataPlane connectDataPlane(TensorMailbox mailbox) {
    return DataPlane.connect(aeronDir, endpoint(), jobId, mailbox);
  }
}
