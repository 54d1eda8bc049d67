package io.vitfleet.ops.cluster;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A {@code vitfleet up} in miniature for the shutdown-hook test: starts a cluster of {@link StandInMember}s in the
 * run folder given, prints the members' pids on one line, and waits to be interrupted (SIGTERM or Ctrl-C).
 */
public final class LauncherProcess {
  private LauncherProcess() {
  }

  public static void main(String[] args) throws Exception {
    RunDirectory run = RunDirectory.create(Path.of(args[0]));
    ClusterLauncher launcher = new ClusterLauncher(run, LauncherFixtures.smallCluster(),
        LauncherFixtures.standIn(Map.of()), line -> System.out.println("event " + line));
    launcher.start();
    List<String> ids = launcher.memberIds();
    System.out.println("pids " + ids.stream().map(id -> Long.toString(launcher.pid(id)))
        .collect(Collectors.joining(" ")));
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
