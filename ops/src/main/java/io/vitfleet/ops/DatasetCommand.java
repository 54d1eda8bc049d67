package io.vitfleet.ops;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code vitfleet dataset}: import, inspect and check data sets. */
@Command(name = "dataset", mixinStandardHelpOptions = true,
    description = "Import, inspect and check data sets (TFRecord shards of tf.train.Example).",
    subcommands = {DatasetImportCommand.class, DatasetInspectCommand.class, DatasetCheckOrderCommand.class})
final class DatasetCommand implements Runnable {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }
}
