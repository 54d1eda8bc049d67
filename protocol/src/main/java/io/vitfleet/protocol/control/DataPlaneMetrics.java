package io.vitfleet.protocol.control;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * Member -> coordinator, with each heartbeat: what its data plane has done so far, for the job's metrics and
 * {@code vitfleet status}. Frames it dropped (bad CRC, unknown job, stale plan, ...), in total and by reason: dropped
 * frames are never applied. And which transport carries its traffic: the frames it received over each, and the
 * transport of each link it sends on — so an operator sees whether a link between hosts really runs over UDP.
 *
 * @param host the member's host identity (as in its {@link Endpoint})
 * @param framesReceived frames received so far by transport ({@code ipc}, {@code udp}), dropped ones included
 * @param links peer member id -> transport ({@code ipc} or {@code udp}) of each open link this member sends on
 */
public record DataPlaneMetrics(long jobId, String memberId, long dropped, String byReason, String host,
                               Map<String, Long> framesReceived, Map<String, String> links) implements ControlMessage {
  public DataPlaneMetrics {
    Checks.named("memberId", memberId);
    Checks.nonNegative("dropped", dropped);
    Checks.named("host", host);
    // Sorted, unmodifiable copies: the same metrics read the same in logs and in the status file.
    framesReceived = Collections.unmodifiableMap(new TreeMap<>(framesReceived));
    links = Collections.unmodifiableMap(new TreeMap<>(links));
    framesReceived.forEach((transport, frames) -> Checks.nonNegative("frames received over " + transport, frames));
  }
}
