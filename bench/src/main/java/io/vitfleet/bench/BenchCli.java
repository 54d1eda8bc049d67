package io.vitfleet.bench;

import io.vitfleet.ops.VitfleetCli;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code vitfleet bench ...}: benchmarks that print JSON with the figure and its reference measured in the same run
 * (a ratio), never a bare number.
 */
@Command(name = "vitfleet bench", mixinStandardHelpOptions = true,
    description = "Benchmarks; each prints JSON with its figure beside a reference measured in the same run.",
    subcommands = {TrainStepBench.class, OptimizerBench.class, FeederBench.class, LinkBench.class, ClusterBench.class,
        RecoveryBench.class,
        CommandLine.HelpCommand.class})
public final class BenchCli implements Runnable {

  @CommandLine.Option(names = "--verbose", scope = CommandLine.ScopeType.INHERIT,
      description = "Print stack traces of errors.")
  boolean verbose;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  public static void main(String[] args) {
    CommandLine cl = new CommandLine(new BenchCli());
    VitfleetCli.applyErrorPolicy(cl);
    System.exit(cl.execute(args));
  }
}
