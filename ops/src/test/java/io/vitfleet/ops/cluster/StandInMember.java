package io.vitfleet.ops.cluster;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A stand-in for NodeMain in launcher tests: prints its arguments (to its log), then sleeps until SIGTERM, as a
 * member does. Its environment steers it: {@code STANDIN_EXIT_<ROLE>=code} exits with that code at once (a shard
 * whose store refuses to open, say); {@code STANDIN_STATUS=done|failed} makes the coordinator write the status.json
 * of a short job that ends that way.
 */
public final class StandInMember {
  /** The job the stand-in coordinator pretends to run. */
  static final int STEPS = 3;

  private StandInMember() {
  }

  public static void main(String[] args) throws Exception {
    System.out.println("stand-in args: " + String.join(" ", args));
    System.out.flush();
    Map<String, String> a = new HashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      a.put(args[i].substring(2), args[i + 1]);
    }
    String exit = System.getenv("STANDIN_EXIT_" + a.get("role").toUpperCase(Locale.ROOT));
    if (exit != null) {
      System.err.println("stand-in " + a.get("id") + ": exiting with " + exit + " as told");
      System.exit(Integer.parseInt(exit));
    }
    String ending = System.getenv("STANDIN_STATUS");
    if ("coordinator".equals(a.get("role")) && ending != null) {
      Path status = Path.of(a.get("run-dir"), "status.json");
      write(status, "waiting", 0, "null");
      for (int step = 1; step <= STEPS; step++) {
        Thread.sleep(100);
        write(status, "running", step, "1.5");
      }
      if (ending.equals("done")) {
        write(status, "done", STEPS, "1.25");
      } else {
        write(status, "failed", 1, "1.5");
      }
    }
    Thread.sleep(Long.MAX_VALUE);
  }

  private static void write(Path status, String state, int step, String loss) throws Exception {
    String json = "{\"job_id\": \"abc123\", \"state\": \"" + state + "\", \"message\": \""
        + (state.equals("failed") ? "shard-0 lost its store" : "") + "\", \"step\": " + step + ", \"total_steps\": "
        + STEPS + ", \"loss\": " + loss + ", \"images_per_second\": 100.0, \"plan\": {\"version\": 1, \"stages\": 1,"
        + " \"replicas\": 1, \"layers\": [[0, 2]], \"workers\": {\"worker-1\": [0, 0]}}, \"members\": ["
        + "{\"id\": \"coordinator\", \"role\": \"coordinator\"}, {\"id\": \"worker-1\", \"role\": \"worker\"}],"
        + " \"worker_step_seconds\": {\"worker-1\": 0.1}, \"aborted_steps\": 0, \"drops\": 0, \"updated\": \""
        + Instant.now() + "\"}";
    Path tmp = status.resolveSibling("status.json.tmp");
    Files.writeString(tmp, json);
    Files.move(tmp, status, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }
}
