package io.vitfleet.coordinator.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The job as the operator sees it: what {@code <run dir>/status.json} holds and {@code vitfleet status} prints. The
 * file is replaced atomically (written beside, then moved), so a reader never sees half of it.
 *
 * @param state waiting, installing, running, done or failed
 * @param plan null before the first plan
 * @param dataPlanes each member's data plane as it last reported it, by member id
 */
public record JobStatus(String jobId, String state, String message, long step, long totalSteps, double loss,
                        double imagesPerSecond, PlanView plan, List<MemberView> members,
                        Map<String, Double> workerStepSeconds, long abortedSteps, long drops,
                        Map<String, DataPlaneView> dataPlanes, String updated) {

  /** The plan in brief: version, P, D, block range per stage, worker -> [replica, stage]. */
  public record PlanView(int version, int stages, int replicas, List<int[]> layers, Map<String, int[]> workers) {
  }

  /** A member of the job. */
  public record MemberView(String id, String role) {
  }

  /**
   * One member's data plane: its host identity, frames received by transport ({@code ipc}, {@code udp}), the
   * transport of each link it sends on (peer id -> {@code ipc} or {@code udp}) and the frames it dropped.
   */
  public record DataPlaneView(String host, Map<String, Long> framesReceived, Map<String, String> links,
                              long drops) {
  }

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** Writes the status to {@code file} atomically. */
  public void write(Path file) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("job_id", jobId);
    m.put("state", state);
    m.put("message", message);
    m.put("step", step);
    m.put("total_steps", totalSteps);
    m.put("loss", Double.isFinite(loss) ? loss : null);
    m.put("images_per_second", imagesPerSecond);
    if (plan == null) {
      m.put("plan", null);
    } else {
      Map<String, Object> p = new LinkedHashMap<>();
      p.put("version", plan.version());
      p.put("stages", plan.stages());
      p.put("replicas", plan.replicas());
      p.put("layers", plan.layers());
      p.put("workers", plan.workers());
      m.put("plan", p);
    }
    m.put("members", members.stream().map(v -> Map.of("id", v.id(), "role", v.role())).toList());
    m.put("worker_step_seconds", workerStepSeconds);
    m.put("aborted_steps", abortedSteps);
    m.put("drops", drops);
    Map<String, Object> planes = new LinkedHashMap<>();
    dataPlanes.forEach((id, d) -> {
      Map<String, Object> v = new LinkedHashMap<>();
      v.put("host", d.host());
      v.put("frames_received", d.framesReceived());
      v.put("links", d.links());
      v.put("drops", d.drops());
      planes.put(id, v);
    });
    m.put("data_plane", planes);
    m.put("updated", updated == null ? Instant.now().toString() : updated);
    try {
      Path dir = file.toAbsolutePath().getParent();
      Files.createDirectories(dir);
      Path tmp = dir.resolve(file.getFileName() + ".tmp");
      JSON.writeValue(tmp.toFile(), m);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the job status to " + file, e);
    }
  }
}
