package io.vitfleet.ops.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ProgressReporterTest {

  @Test
  void shouldLogPlainLinesAtTheFirstEveryFiftiethAndTheLastStepWhenNotOnATerminal() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    ProgressReporter p = new ProgressReporter(new PrintStream(bytes, true, StandardCharsets.UTF_8), false, 0, 120);
    for (long s = 1; s <= 120; s++) {
      p.step(s, 0.5, 100);
    }
    String[] lines = bytes.toString(StandardCharsets.UTF_8).split("\n");
    assertEquals(4, lines.length, String.join("|", lines));
    assertTrue(lines[0].startsWith("step 1/120  loss 0.5000"), lines[0]);
    assertTrue(lines[1].startsWith("step 50/120"), lines[1]);
    assertTrue(lines[3].startsWith("step 120/120"), lines[3]);
    assertFalse(bytes.toString(StandardCharsets.UTF_8).contains("\r"), "no carriage returns in plain mode");
  }

  @Test
  void shouldCountOnlyTheStepsOfThisRunAfterAResume() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    ProgressReporter p = new ProgressReporter(new PrintStream(bytes, true, StandardCharsets.UTF_8), false, 0, 1000);
    p.startingAt(900);
    p.step(901, 0.1, 10);
    assertTrue(bytes.toString(StandardCharsets.UTF_8).startsWith("step 901/1000"),
        "the first step of a resumed run is logged: " + bytes);
  }

  @Test
  void shouldRedrawOneLineInPlaceOnATerminal() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    ProgressReporter p = new ProgressReporter(new PrintStream(bytes, true, StandardCharsets.UTF_8), true, 0, 10);
    p.step(10, 0.25, 50);
    p.line("step 10: test accuracy 0.9000");
    String out = bytes.toString(StandardCharsets.UTF_8);
    assertTrue(out.startsWith("\r[##############################] step 10/10"), out);
    assertTrue(out.endsWith("\nstep 10: test accuracy 0.9000\n"), out);
  }

  @Test
  void shouldFormatDurations() {
    assertEquals("01:05", ProgressReporter.duration(65));
    assertEquals("1:01:01", ProgressReporter.duration(3661));
    assertEquals("--:--", ProgressReporter.duration(Double.NaN));
  }
}
