package io.vitfleet.ops;

import io.vitfleet.ops.cluster.CheckCommand;
import io.vitfleet.ops.cluster.StatusCommand;
import io.vitfleet.ops.cluster.UpCommand;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code vitfleet} ops console: one entry point, one error policy for every subcommand. */
@Command(name = "vitfleet", mixinStandardHelpOptions = true, version = "vitfleet 0.1.0",
    description = "An elastic training cluster for Vision Transformers.",
    subcommands = {DemoCommand.class, TrainCommand.class, FewshotCommand.class, ModelCommand.class,
        DatasetCommand.class, UpCommand.class, StatusCommand.class, CheckCommand.class, CommandLine.HelpCommand.class})
public final class VitfleetCli implements Runnable {

  /** Exit code for bad input (flags, files, checkpoints). */
  public static final int EXIT_USAGE = 2;
  /** Exit code for a failure that is not the user's input. */
  public static final int EXIT_FAILURE = 1;

  @Option(names = "--verbose", scope = CommandLine.ScopeType.INHERIT,
      description = "Print stack traces of errors.")
  boolean verbose;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /** Runs the CLI and returns its exit code (tests call this instead of {@link #main}). */
  public static int execute(String... args) {
    CommandLine cl = commandLine();
    return cl.execute(args);
  }

  /** The configured command line, with the shared error policy. */
  public static CommandLine commandLine() {
    return applyErrorPolicy(new CommandLine(new VitfleetCli()));
  }

  /** Installs the shared error policy (one line, exit 2 for bad input, stack traces only with --verbose). */
  public static CommandLine applyErrorPolicy(CommandLine cl) {
    cl.setExecutionExceptionHandler(VitfleetCli::handleExecutionException);
    cl.setParameterExceptionHandler(VitfleetCli::handleParameterException);
    return cl;
  }

  static int handleParameterException(CommandLine.ParameterException ex, String[] args) {
    PrintWriter err = ex.getCommandLine().getErr();
    err.println("vitfleet: error: " + ex.getMessage() + " (see '" + ex.getCommandLine().getCommandSpec().qualifiedName()
        + " --help')");
    err.flush();
    return EXIT_USAGE;
  }

  static int handleExecutionException(Exception ex, CommandLine cl, CommandLine.ParseResult parsed) {
    boolean verbose = isVerbose(parsed);
    PrintWriter err = cl.getErr();
    Throwable t = ex;
    if (t instanceof UncheckedIOException && t.getCause() != null) {
      t = t.getCause();
    }
    int code;
    if (t instanceof UserError || t instanceof IllegalArgumentException) {
      err.println("vitfleet: error: " + t.getMessage());
      code = EXIT_USAGE;
    } else if (t instanceof NoSuchFileException || t instanceof FileNotFoundException) {
      err.println("vitfleet: error: file not found: " + t.getMessage());
      code = EXIT_USAGE;
    } else if (t instanceof IOException) {
      err.println("vitfleet: error: " + t.getClass().getSimpleName() + ": " + t.getMessage());
      code = EXIT_FAILURE;
    } else {
      err.println("vitfleet: internal error: " + t + (verbose ? "" : " (run with --verbose for the stack trace)"));
      code = EXIT_FAILURE;
    }
    if (verbose) {
      ex.printStackTrace(err);
    }
    err.flush();
    return code;
  }

  private static boolean isVerbose(CommandLine.ParseResult parsed) {
    for (CommandLine.ParseResult p = parsed; p != null; p = p.subcommand()) {
      if (p.hasMatchedOption("--verbose")) {
        return true;
      }
    }
    return false;
  }
}
