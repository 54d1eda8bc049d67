package io.vitfleet.protocol.link;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedMediaDriverTest {
  @TempDir
  Path tmp;

  @Test
  void shouldStartOverTheLeftoversOfAKilledRunAndDeleteItsDirectoryOnClose() throws Exception {
    Path dir = tmp.resolve("aeron");
    Files.createDirectories(dir);
    Path leftover = Files.writeString(dir.resolve("cnc.dat"), "garbage from a process killed with -9");
    Queue<Throwable> errors = new ConcurrentLinkedQueue<>();

    try (EmbeddedMediaDriver driver = EmbeddedMediaDriver.launch(dir, EmbeddedMediaDriver.Settings.DEFAULTS,
        errors::add)) {
      assertTrue(driver.aeron().addSubscription(LinkChannel.ipc(), 1) != null);
      assertTrue(Files.size(leftover) > 100, "the driver should have replaced the leftover CnC file");
    }
    assertFalse(Files.exists(dir), "the driver directory should be gone after close");
    assertTrue(errors.isEmpty(), () -> "errors: " + errors);
  }
}
