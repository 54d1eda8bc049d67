package io.vitfleet.ops.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitfleet.ops.UserError;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real training (TensorFlow, the optimizer, Fashion-MNIST) of a tiny ViT, stopped and resumed. */
class LocalTrainerResumeIT {

  static JobConfig tinyJob(long steps) {
    Map<String, String> o = new LinkedHashMap<>();
    o.put("model.variant", "\"s/7\"");
    o.put("model.width", "16");
    o.put("model.depth", "2");
    o.put("model.mlp", "32");
    o.put("model.heads", "2");
    o.put("batch.global", "32");
    o.put("batch.microbatch", "8");
    o.put("batch.groups", "2");
    o.put("steps", Long.toString(steps));
    o.put("optimizer.schedule.warmup", "2");
    o.put("optimizer.schedule.cooldown", "2");
    o.put("optimizer.schedule.timescale", "4");
    o.put("eval_every", "0");
    o.put("checkpoint_every", "0");
    return JobConfig.load(null, o);
  }

  static ProgressReporter quiet() {
    return new ProgressReporter(new PrintStream(new ByteArrayOutputStream()), false, 0, 1);
  }

  @Test
  void shouldEndBitIdenticalWhetherStoppedAndResumedOrNot(@TempDir Path tmp) throws Exception {
    JobConfig job = tinyJob(6);
    LocalTrainer.Outcome straight;
    float[] straightParams;
    try (LocalTrainer t = new LocalTrainer(job, tmp.resolve("straight"), quiet())) {
      straight = t.run(6);
      straightParams = t.params().clone();
    }
    try (LocalTrainer t = new LocalTrainer(job, tmp.resolve("resumed"), quiet())) {
      LocalTrainer.Outcome first = t.run(3);
      assertEquals(3, first.step());
      assertNotEquals(straight.paramsHash(), first.paramsHash(), "3 steps must differ from 6");
    }
    LocalTrainer.Outcome resumed;
    float[] resumedParams;
    try (LocalTrainer t = new LocalTrainer(job, tmp.resolve("resumed"), quiet())) {
      assertEquals(3, t.step(), "the second trainer starts from the checkpoint of step 3");
      resumed = t.run(6);
      resumedParams = t.params().clone();
    }
    assertEquals(6, resumed.step());
    assertArrayEquals(straightParams, resumedParams);
    assertEquals(straight.paramsHash(), resumed.paramsHash());
    byte[] a = Files.readAllBytes(Checkpoint.load(tmp.resolve("straight")).optimizerFile());
    byte[] b = Files.readAllBytes(Checkpoint.load(tmp.resolve("resumed")).optimizerFile());
    assertArrayEquals(a, b, "optimizer state after the resumed run equals the uninterrupted one");
  }

  @Test
  void shouldRefuseACheckpointOfAnotherModel(@TempDir Path tmp) {
    try (LocalTrainer t = new LocalTrainer(tinyJob(2), tmp, quiet())) {
      t.run(1);
    }
    Map<String, String> o = new LinkedHashMap<>();
    o.put("model.variant", "\"s/7\"");
    o.put("model.width", "32");
    o.put("model.depth", "1");
    o.put("model.mlp", "32");
    o.put("model.heads", "2");
    UserError e = assertThrows(UserError.class, () -> new LocalTrainer(JobConfig.load(null, o), tmp, quiet()));
    assertTrue(e.getMessage().contains("belongs to another model"), e.getMessage());
  }

  @Test
  void shouldRefuseADamagedCheckpoint(@TempDir Path tmp) throws Exception {
    try (LocalTrainer t = new LocalTrainer(tinyJob(2), tmp, quiet())) {
      t.run(1);
    }
    Path params = Checkpoint.load(tmp).dir().resolve("params.f32");
    byte[] bytes = Files.readAllBytes(params);
    bytes[bytes.length / 2] ^= 0x40;
    Files.write(params, bytes);
    UserError e = assertThrows(UserError.class, () -> Checkpoint.load(tmp));
    assertTrue(e.getMessage().contains("SHA-256"), e.getMessage());
  }
}
