package io.vitfleet.feeder.actor;

import io.vitfleet.protocol.control.Endpoint;
import io.vitfleet.protocol.link.DataPlane;

/**
 * Who the feeder is in the cluster and where its data plane lives (docs/cluster.md, "Processes and identities").
 *
 * @param memberId the feeder's member id; the coordinator waits for this id to come back when the feeder is lost
 * @param jobId the job fingerprint every control message and frame carries
 * @param streamId the Aeron stream of the feeder's own subscription
 * @param aeronDir the directory of the host's media driver, which {@code vitfleet up} runs
 */
public record FeederSettings(String memberId, long jobId, int streamId, String aeronDir) {
  /** The member id of the cluster's one feeder. */
  public static final String MEMBER_ID = "feeder";
  /** The feeder's data stream id; shards use 2000 + i, workers 3000 + n. */
  public static final int STREAM_ID = 1000;

  public FeederSettings {
    if (memberId == null || memberId.isBlank()) {
      throw new IllegalArgumentException("the feeder needs a member id, e.g. '" + MEMBER_ID + "'");
    }
    if (aeronDir == null || aeronDir.isBlank()) {
      throw new IllegalArgumentException("feeder " + memberId + " needs the directory of its host's Aeron media "
          + "driver (--aeron-dir)");
    }
  }

  /** The cluster's feeder: member {@value #MEMBER_ID} on stream {@value #STREAM_ID}. */
  public static FeederSettings of(long jobId, String aeronDir) {
    return new FeederSettings(MEMBER_ID, jobId, STREAM_ID, aeronDir);
  }

  /** Where the feeder's data plane listens: IPC on its stream. */
  public Endpoint endpoint() {
    return DataPlane.ipcEndpoint(memberId, streamId);
  }

  /**
   * Connects the feeder's data plane to the media driver in {@link #aeronDir}. Nothing is ever sent to the feeder,
   * so whatever arrives is dropped.
   */
  public DataPlane connectDataPlane() {
    return DataPlane.connect(aeronDir, endpoint(), jobId, tensor -> { });
  }
}
