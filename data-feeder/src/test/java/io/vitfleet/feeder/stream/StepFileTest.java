package io.vitfleet.feeder.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StepFileTest {

  private static ByteBuffer payload(long step) {
    byte[] b = new byte[100 + (int) step];
    Arrays.fill(b, (byte) step);
    return ByteBuffer.wrap(b);
  }

  private static void writeSteps(Path file, long first, long end) throws IOException {
    try (StepFile f = StepFile.open(file, first)) {
      for (long step = f.nextStep(); step < end; step++) {
        f.append(step, payload(step));
      }
    }
  }

  @Test
  void shouldContinueAfterTheLastCommittedStep(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("steps.bin");
    writeSteps(file, 5, 9);
    StepFile.Recovery r = StepFile.recover(file);
    assertEquals(8, r.lastCommittedStep());
    assertEquals(0, r.tornBytes());
    assertEquals(Files.size(file), r.committedBytes());
    try (StepFile f = StepFile.open(file, 0)) {
      assertEquals(9, f.nextStep());
    }
  }

  @Test
  void shouldCutATornStepAndWriteTheSameBytesAsAnUninterruptedRun(@TempDir Path dir) throws IOException {
    Path straight = dir.resolve("straight.bin");
    writeSteps(straight, 0, 6);
    Path torn = dir.resolve("torn.bin");
    writeSteps(torn, 0, 3);
    long committed = Files.size(torn);
    try (StepFile f = StepFile.open(torn, 0)) {
      f.begin(3, payload(3).remaining());
      f.write(ByteBuffer.wrap(new byte[40]));
    }
    assertEquals(new StepFile.Recovery(2, committed, StepFile.HEADER_BYTES + 40), StepFile.recover(torn));
    writeSteps(torn, 0, 6);
    assertArrayEquals(Files.readAllBytes(straight), Files.readAllBytes(torn));
  }

  @Test
  void shouldNotCountAStepWhosePayloadWasDamaged(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("steps.bin");
    writeSteps(file, 0, 4);
    byte[] bytes = Files.readAllBytes(file);
    int thirdRecord = 2 * StepFile.HEADER_BYTES + 2 * StepFile.TRAILER_BYTES + 100 + 101;
    bytes[thirdRecord + StepFile.HEADER_BYTES + 7] ^= 1;
    Files.write(file, bytes);
    StepFile.Recovery r = StepFile.recover(file);
    assertEquals(1, r.lastCommittedStep());
    assertEquals(thirdRecord, r.committedBytes());
  }

  @Test
  void shouldRefuseStepsOutOfOrderAndUnfinishedCommits(@TempDir Path dir) throws IOException {
    try (StepFile f = StepFile.open(dir.resolve("s.bin"), 0)) {
      assertThrows(IllegalStateException.class, () -> f.append(1, payload(1)));
      f.begin(0, 10);
      f.write(ByteBuffer.wrap(new byte[4]));
      assertThrows(IllegalStateException.class, f::commit);
      assertThrows(IllegalStateException.class, () -> f.write(ByteBuffer.wrap(new byte[7])));
    }
  }

  @Test
  void shouldTreatAMissingFileAsNoStepsYet(@TempDir Path dir) throws IOException {
    assertEquals(new StepFile.Recovery(-1, 0, 0), StepFile.recover(dir.resolve("none.bin")));
  }
}
