package io.vitfleet.ops.cluster;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The coordinator's {@code status.json}, read: what {@code vitfleet up} shows as progress, {@code vitfleet status}
 * prints, and tests wait on. The coordinator writes the file atomically, so a reader sees a whole status or none.
 * Unknown fields are kept in {@link #json()} and otherwise ignored, so a newer coordinator does not break an older
 * reader.
 *
 * @param state              waiting, installing, running, done (reached total_steps) or failed (see message)
 * @param loss               the loss of the last committed step; NaN before the first
 * @param plan               the installed plan, or null before the first
 * @param workerStepSeconds  each worker's time for the last step, by worker id
 * @param dataPlanes         each member's data plane as it last reported it (host, transports), by member id
 * @param updated            when the coordinator wrote the status, or null if it did not say
 */
public record ClusterStatus(String jobId, String state, String message, long step, long totalSteps, double loss,
                            double imagesPerSecond, PlanView plan, List<Member> members,
                            Map<String, Double> workerStepSeconds, long abortedSteps, long drops,
                            Map<String, DataPlaneView> dataPlanes, Instant updated, ObjectNode json) {

  public static final String WAITING = "waiting";
  public static final String INSTALLING = "installing";
  public static final String RUNNING = "running";
  public static final String DONE = "done";
  public static final String FAILED = "failed";

  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** A member of the cluster as the coordinator knows it. */
  public record Member(String id, String role) {
  }

  /**
   * The installed plan: P stages over D replicas, the encoder blocks [first, end) of each stage, and each planned
   * worker's (replica, stage).
   */
  public record PlanView(long version, int stages, int replicas, List<Blocks> layers, Map<String, Slot> workers) {
  }

  /** Encoder blocks [first, end) of one stage. */
  public record Blocks(int first, int end) {
  }

  /** Where a planned worker runs: stage {@code stage} of replica {@code replica}. */
  public record Slot(int replica, int stage) {
  }

  /**
   * A member's data plane: its host identity, the frames it received by transport ({@code ipc}, {@code udp}), the
   * transport of each link it sends on (peer id -> {@code ipc} or {@code udp}), and the frames it dropped.
   */
  public record DataPlaneView(String host, Map<String, Long> framesReceived, Map<String, String> links, long drops) {
    /** Frames received over {@code transport} ({@code ipc} or {@code udp}); 0 when it did not say. */
    public long framesReceived(String transport) {
      return framesReceived.getOrDefault(transport, 0L);
    }
  }

  /** The status in {@code file}, or empty when the coordinator has not written one yet. */
  public static Optional<ClusterStatus> read(Path file) {
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the cluster status " + file + ": " + e.getMessage(), e);
    }
    try {
      return Optional.of(parse(text));
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException("the cluster status " + file + " is not valid: " + e.getMessage(), e);
    }
  }

  /** Parses the text of a status file. */
  public static ClusterStatus parse(String text) {
    JsonNode root;
    try {
      root = MAPPER.readTree(text);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(e.getOriginalMessage(), e);
    }
    if (!(root instanceof ObjectNode obj)) {
      throw new IllegalArgumentException("expected a JSON object, got "
          + (root == null ? "nothing" : root.getNodeType()));
    }
    List<Member> members = new ArrayList<>();
    for (JsonNode m : obj.path("members")) {
      members.add(new Member(m.path("id").asText(), m.path("role").asText()));
    }
    Map<String, Double> stepSeconds = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : obj.path("worker_step_seconds").properties()) {
      stepSeconds.put(e.getKey(), e.getValue().asDouble());
    }
    Map<String, DataPlaneView> planes = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : obj.path("data_plane").properties()) {
      planes.put(e.getKey(), dataPlane(e.getValue()));
    }
    return new ClusterStatus(obj.path("job_id").asText(""), obj.path("state").asText(""),
        obj.path("message").asText(""), obj.path("step").asLong(0), obj.path("total_steps").asLong(0),
        number(obj.get("loss")), number(obj.get("images_per_second")), plan(obj.get("plan")), List.copyOf(members),
        Collections.unmodifiableMap(stepSeconds), obj.path("aborted_steps").asLong(0),
        obj.path("drops").asLong(0), Collections.unmodifiableMap(planes), instant(obj.get("updated")), obj);
  }

  private static DataPlaneView dataPlane(JsonNode d) {
    Map<String, Long> frames = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : d.path("frames_received").properties()) {
      frames.put(e.getKey(), e.getValue().asLong());
    }
    Map<String, String> links = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : d.path("links").properties()) {
      links.put(e.getKey(), e.getValue().asText());
    }
    return new DataPlaneView(d.path("host").asText(""), Collections.unmodifiableMap(frames),
        Collections.unmodifiableMap(links), d.path("drops").asLong(0));
  }

  private static double number(JsonNode n) {
    return n != null && n.isNumber() ? n.asDouble() : Double.NaN;
  }

  private static PlanView plan(JsonNode p) {
    if (p == null || p.isNull() || p.isMissingNode()) {
      return null;
    }
    List<Blocks> layers = new ArrayList<>();
    for (JsonNode range : p.path("layers")) {
      layers.add(new Blocks(range.path(0).asInt(), range.path(1).asInt()));
    }
    Map<String, Slot> workers = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : p.path("workers").properties()) {
      workers.put(e.getKey(), new Slot(e.getValue().path(0).asInt(), e.getValue().path(1).asInt()));
    }
    return new PlanView(p.path("version").asLong(), p.path("stages").asInt(), p.path("replicas").asInt(),
        List.copyOf(layers), Collections.unmodifiableMap(workers));
  }

  private static Instant instant(JsonNode n) {
    if (n == null || !n.isTextual()) {
      return null;
    }
    try {
      return Instant.parse(n.asText());
    } catch (DateTimeParseException e) {
      try {
        return OffsetDateTime.parse(n.asText()).toInstant();
      } catch (DateTimeParseException e2) {
        throw new IllegalArgumentException("'updated' is not an ISO-8601 time: " + n.asText(), e2);
      }
    }
  }

  /** The job reached its last step (committed). */
  public boolean isDone() {
    return DONE.equals(state);
  }

  public boolean isFailed() {
    return FAILED.equals(state);
  }

  /** Done or failed: the coordinator will not change it any more. */
  public boolean isFinished() {
    return isDone() || isFailed();
  }

  /** The members of {@code role}, in the order of the status. */
  public List<Member> members(String role) {
    return members.stream().filter(m -> m.role().equals(role)).toList();
  }

  /** How long ago the coordinator wrote this status, or empty if it did not say when. */
  public Optional<Duration> age(Instant now) {
    return updated == null ? Optional.empty() : Optional.of(Duration.between(updated, now));
  }
}
