package io.vitfleet.ops.cluster;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vitfleet.ops.JsonOutput;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code vitfleet status}: what the coordinator of a cluster run last wrote to its status.json — members, plan, step,
 * loss, throughput, each worker's step time, aborted steps, dropped frames, each member's host and the transport of
 * its links — and how old that is.
 */
@Command(name = "status", mixinStandardHelpOptions = true,
    description = "Shows the state of a cluster run started by 'vitfleet up' (the newest one unless --dir says).")
public final class StatusCommand implements Callable<Integer> {

  @Option(names = "--dir", paramLabel = "DIR",
      description = "A run folder, or a runs folder whose LATEST names one (default: runs).")
  Path dir;

  @Option(names = "--json", description = "Print the status as JSON (with run_dir and age_seconds added).")
  boolean json;

  @Override
  public Integer call() throws JsonProcessingException {
    RunDirectory run = RunDirectory.find(dir);
    Optional<ClusterStatus> status = ClusterStatus.read(run.statusFile());
    if (status.isEmpty()) {
      System.out.println("run " + run + ": no status yet (the coordinator writes " + run.statusFile().getFileName()
          + " once it is up; see " + run.log("coordinator") + ")");
      return 1;
    }
    Instant now = Instant.now();
    if (json) {
      ObjectNode out = status.get().json().deepCopy();
      out.put("run_dir", run.toString());
      Optional<Duration> age = status.get().age(now);
      if (age.isPresent()) {
        out.put("age_seconds", age.get().toMillis() / 1000.0);
      } else {
        out.putNull("age_seconds");
      }
      System.out.println(JsonOutput.mapper().writeValueAsString(out));
    } else {
      System.out.print(render(run, status.get(), now));
    }
    return 0;
  }

  /** The status as the lines {@code vitfleet status} prints. */
  static String render(RunDirectory run, ClusterStatus s, Instant now) {
    StringBuilder b = new StringBuilder();
    b.append("run ").append(run).append(s.jobId().isEmpty() ? "" : " (job " + s.jobId() + ")").append('\n');
    b.append("state ").append(s.state());
    if (!s.message().isEmpty()) {
      b.append(": ").append(s.message());
    }
    b.append(", updated ").append(s.age(now).map(StatusCommand::ago).orElse("at an unknown time")).append('\n');
    b.append(String.format(Locale.ROOT, "step %d/%d  loss %s  %s images/s  aborted steps %d  drops %d%n", s.step(),
        s.totalSteps(), Double.isNaN(s.loss()) ? "-" : String.format(Locale.ROOT, "%.4f", s.loss()),
        Double.isNaN(s.imagesPerSecond()) ? "-" : String.format(Locale.ROOT, "%.0f", s.imagesPerSecond()),
        s.abortedSteps(), s.drops()));
    ClusterStatus.PlanView plan = s.plan();
    if (plan == null) {
      b.append("plan: none installed yet\n");
    } else {
      b.append("plan v").append(plan.version()).append(": ").append(describe(plan)).append('\n');
      for (int i = 0; i < plan.layers().size(); i++) {
        ClusterStatus.Blocks l = plan.layers().get(i);
        b.append("  stage ").append(i).append(": blocks [").append(l.first()).append(", ").append(l.end())
            .append(")\n");
      }
    }
    b.append("members (").append(s.members().size()).append("):\n");
    List<String[]> rows = new ArrayList<>();
    Set<String> shown = new HashSet<>();
    for (ClusterStatus.Member m : s.members()) {
      rows.add(new String[] {m.id(), m.role()});
      shown.add(m.id());
    }
    Set<String> gone = new TreeSet<>();
    if (plan != null) {
      gone.addAll(plan.workers().keySet());
    }
    gone.addAll(s.workerStepSeconds().keySet());
    gone.removeAll(shown);
    for (String id : gone) {
      rows.add(new String[] {id, "(left)"});
    }
    int width = rows.stream().mapToInt(r -> r[0].length()).max().orElse(0);
    for (String[] row : rows) {
      StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "  %-" + width + "s  %-11s", row[0], row[1]));
      ClusterStatus.Slot slot = plan == null ? null : plan.workers().get(row[0]);
      if (slot != null) {
        line.append("  replica ").append(slot.replica()).append(" stage ").append(slot.stage());
      } else if ("worker".equals(row[1])) {
        line.append("  not in the plan (spare)");
      }
      Double seconds = s.workerStepSeconds().get(row[0]);
      if (seconds != null) {
        line.append(String.format(Locale.ROOT, "  step %.3f s", seconds));
      }
      b.append(line.toString().stripTrailing()).append('\n');
    }
    appendDataPlanes(b, s.dataPlanes());
    return b.toString();
  }

  /**
   * One line per member that reported its data plane: its host, the frames it received over each transport and the
   * transport of each link it sends on — where an operator sees whether links between hosts really run over UDP.
   */
  private static void appendDataPlanes(StringBuilder b, Map<String, ClusterStatus.DataPlaneView> planes) {
    if (planes.isEmpty()) {
      return;
    }
    b.append("data plane (host; frames received by transport; links it sends on):\n");
    int width = planes.keySet().stream().mapToInt(String::length).max().orElse(0);
    int hostWidth = planes.values().stream().mapToInt(d -> d.host().length()).max().orElse(0);
    for (Map.Entry<String, ClusterStatus.DataPlaneView> e : planes.entrySet()) {
      ClusterStatus.DataPlaneView d = e.getValue();
      StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "  %-" + width + "s  %-" + hostWidth + "s ",
          e.getKey(), d.host()));
      List<String> received = new ArrayList<>();
      d.framesReceived().forEach((transport, frames) -> received.add(transport + " " + frames));
      line.append(" received ").append(received.isEmpty() ? "-" : String.join(", ", received));
      List<String> links = new ArrayList<>();
      d.links().forEach((peer, transport) -> links.add(peer + " " + transport));
      line.append("  links ").append(links.isEmpty() ? "-" : String.join(", ", links));
      if (d.drops() > 0) {
        line.append("  drops ").append(d.drops());
      }
      b.append(line).append('\n');
    }
  }

  /** P and D of a plan, as {@code P=2 stages x D=1 replicas}. */
  static String describe(ClusterStatus.PlanView plan) {
    return "P=" + plan.stages() + (plan.stages() == 1 ? " stage" : " stages") + " x D=" + plan.replicas()
        + (plan.replicas() == 1 ? " replica" : " replicas");
  }

  /** "2 s ago", "3 min ago", "2 h ago"; a time in the future (clock skew) reads as "just now". */
  static String ago(Duration age) {
    long s = age.toSeconds();
    if (s < 1) {
      return "just now";
    }
    if (s < 120) {
      return s + " s ago";
    }
    if (s < 2 * 3600) {
      return s / 60 + " min ago";
    }
    return s / 3600 + " h ago";
  }
}
