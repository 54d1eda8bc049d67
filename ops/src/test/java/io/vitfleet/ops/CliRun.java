package io.vitfleet.ops;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.function.IntSupplier;
import java.util.stream.Stream;
import picocli.CommandLine;

/** One run of the {@code vitfleet} CLI in this JVM, with its exit code and captured stdout and stderr. */
public record CliRun(int code, String out, String err) {

  /** Runs {@link VitfleetCli#execute} on the arguments (each turned into a string) and captures what it prints. */
  public static CliRun vitfleet(Object... args) {
    String[] strings = Stream.of(args).map(Object::toString).toArray(String[]::new);
    return capture(() -> VitfleetCli.execute(strings));
  }

  /**
   * Runs {@code command} (the {@code vitfleet} root, or one subcommand built by the test) on {@code args} with the
   * CLI's error policy, capturing what it prints.
   */
  public static CliRun run(Object command, String... args) {
    return capture(() -> VitfleetCli.applyErrorPolicy(new CommandLine(command)).execute(args));
  }

  private static CliRun capture(IntSupplier cli) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      int code = cli.getAsInt();
      return new CliRun(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }
}
