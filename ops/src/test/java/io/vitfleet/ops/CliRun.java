package io.vitfleet.ops;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;

/** One run of the {@code vitfleet} CLI in this JVM, with its exit code and captured stdout and stderr. */
record CliRun(int code, String out, String err) {

  /** Runs {@link VitfleetCli#execute} on the arguments (each turned into a string) and captures what it prints. */
  static CliRun vitfleet(Object... args) {
    String[] strings = Stream.of(args).map(Object::toString).toArray(String[]::new);
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      int code = VitfleetCli.execute(strings);
      return new CliRun(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }
}
