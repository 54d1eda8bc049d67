package io.vitfleet.ops.train;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Shows training progress: a one-line bar redrawn in place on a terminal, plain log lines otherwise (pipes, CI, files),
 * so logs stay readable and terminals stay calm.
 */
public final class ProgressReporter {
  /** Plain mode logs a line every this many steps (and at the first and last step). */
  private static final int PLAIN_EVERY = 50;
  /** A terminal bar is redrawn at most this often. */
  private static final long REDRAW_NANOS = 200_000_000L;

  private final PrintStream out;
  private final boolean terminal;
  private final long totalSteps;
  private long startNanos;
  private long firstStep;
  private long lastDraw;
  private boolean barShown;

  public ProgressReporter(PrintStream out, boolean terminal, long firstStep, long totalSteps) {
    this.out = out;
    this.terminal = terminal;
    this.firstStep = firstStep;
    this.totalSteps = totalSteps;
    this.startNanos = System.nanoTime();
  }

  /** Restarts the clock at {@code step} (a resumed run), so rates and the ETA count only this run's steps. */
  public void startingAt(long step) {
    this.firstStep = step;
    this.startNanos = System.nanoTime();
  }

  /** True when stdout is an interactive terminal. */
  public static boolean stdoutIsTerminal() {
    return System.console() != null && System.getenv("CI") == null;
  }

  /** Called after each committed step (1-based count of steps done). */
  public void step(long stepsDone, double loss, double imagesPerSecond) {
    long now = System.nanoTime();
    double elapsed = (now - startNanos) / 1e9;
    long doneHere = stepsDone - firstStep;
    double eta = doneHere > 0 ? elapsed / doneHere * (totalSteps - stepsDone) : Double.NaN;
    if (terminal) {
      if (now - lastDraw < REDRAW_NANOS && stepsDone < totalSteps) {
        return;
      }
      lastDraw = now;
      int width = 30;
      int filled = (int) Math.round(width * (double) stepsDone / totalSteps);
      String bar = "#".repeat(filled) + "-".repeat(width - filled);
      out.print(String.format(Locale.ROOT, "\r[%s] step %d/%d  loss %.4f  %.0f img/s  ETA %s   ", bar, stepsDone,
          totalSteps, loss, imagesPerSecond, duration(eta)));
      out.flush();
      barShown = true;
    } else if (doneHere == 1 || stepsDone % PLAIN_EVERY == 0 || stepsDone == totalSteps) {
      out.println(String.format(Locale.ROOT, "step %d/%d  loss %.4f  %.0f img/s  ETA %s", stepsDone, totalSteps,
          loss, imagesPerSecond, duration(eta)));
    }
  }

  /** Prints a line (evaluation results, checkpoints) without breaking the bar. */
  public void line(String text) {
    if (terminal && barShown) {
      out.println();
      barShown = false;
    }
    out.println(text);
  }

  /** Ends the bar line. */
  public void finish() {
    if (terminal && barShown) {
      out.println();
      barShown = false;
    }
  }

  static String duration(double seconds) {
    if (Double.isNaN(seconds) || Double.isInfinite(seconds)) {
      return "--:--";
    }
    long s = Math.round(seconds);
    return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
        : String.format(Locale.ROOT, "%02d:%02d", s / 60, s % 60);
  }
}
