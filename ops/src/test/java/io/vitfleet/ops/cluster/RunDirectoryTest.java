package io.vitfleet.ops.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitfleet.ops.UserError;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunDirectoryTest {

  @Test
  void shouldLayOutARunFolderWithItsConfigsStatusLogsAndShardStores(@TempDir Path tmp) {
    RunDirectory run = RunDirectory.create(tmp.resolve("runs/r1"));
    Path root = tmp.resolve("runs/r1").toAbsolutePath();
    assertEquals(root, run.root());
    assertEquals(root.resolve("job.conf"), run.jobConf());
    assertEquals(root.resolve("cluster.conf"), run.clusterConf());
    assertEquals(root.resolve("status.json"), run.statusFile());
    assertEquals(root.resolve("logs/shard-1.log"), run.log("shard-1"));
    assertEquals(root.resolve("shards/shard-1.map"), run.shardStore(1));
    assertTrue(Files.isDirectory(run.logs()));
    assertTrue(Files.isDirectory(run.shards()));
  }

  @Test
  void shouldPointTheRunsFolderAtItsNewestRun(@TempDir Path tmp) throws Exception {
    Path runs = tmp.resolve("runs");
    RunDirectory.create(runs.resolve("first")).writeClusterConf("vitfleet.cluster {}");
    RunDirectory second = RunDirectory.create(runs.resolve("second"));
    second.writeClusterConf("vitfleet.cluster {}");
    assertEquals("second", Files.readString(runs.resolve(RunDirectory.LATEST)).trim());
    assertEquals(second.root(), RunDirectory.find(runs).root());
  }

  @Test
  void shouldFindARunFolderGivenDirectly(@TempDir Path tmp) {
    RunDirectory run = RunDirectory.create(tmp.resolve("mine"));
    run.writeJobConf("vitfleet.job {}");
    assertEquals(run.root(), RunDirectory.find(tmp.resolve("mine")).root());
  }

  @Test
  void shouldSayHowToStartARunWhenTheFolderHoldsNone(@TempDir Path tmp) {
    UserError e = assertThrows(UserError.class, () -> RunDirectory.find(tmp));
    assertTrue(e.getMessage().startsWith("no cluster run found in " + tmp.toAbsolutePath()), e.getMessage());
  }

  @Test
  void shouldRemoveTheStatusOfAnEarlierRunWhenAFolderIsReusedButKeepItsShardStores(@TempDir Path tmp)
      throws Exception {
    RunDirectory first = RunDirectory.create(tmp.resolve("run"));
    Files.writeString(first.statusFile(), "{\"state\": \"done\"}");
    Files.writeString(first.shardStore(0), "committed parameters");
    RunDirectory again = RunDirectory.create(tmp.resolve("run"));
    assertFalse(Files.exists(again.statusFile()));
    assertTrue(Files.exists(again.shardStore(0)));
  }

  @Test
  void shouldPutTheAeronDirectoryOnShmWhenThereIsOneAndInTheRunFolderOtherwise(@TempDir Path tmp) throws Exception {
    Path shm = Files.createDirectory(tmp.resolve("shm"));
    Path root = tmp.resolve("run");
    Path onShm = RunDirectory.chooseAeronDir(root, shm);
    assertEquals(shm, onShm.getParent());
    assertTrue(onShm.getFileName().toString().startsWith("vitfleet-" + ProcessHandle.current().pid() + "-"));
    assertNotEquals(onShm, RunDirectory.chooseAeronDir(root, shm));
    assertEquals(root.resolve("aeron"), RunDirectory.chooseAeronDir(root, tmp.resolve("no-shm")));
  }

  @Test
  void shouldNameANewRunByItsStartTimeAndNeverReuseAName(@TempDir Path tmp) throws Exception {
    Path a = RunDirectory.newRunPath(tmp);
    assertTrue(a.getFileName().toString().matches("\\d{8}-\\d{6}"), a.toString());
    Files.createDirectories(a);
    Path b = RunDirectory.newRunPath(tmp);
    assertNotEquals(a, b);
  }
}
