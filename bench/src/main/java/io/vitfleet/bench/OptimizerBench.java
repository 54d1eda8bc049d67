package io.vitfleet.bench;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "optimizer", description = "(being built)")
final class OptimizerBench implements Callable<Integer> {
  @Override
  public Integer call() {
    throw new io.vitfleet.ops.UserError("'bench optimizer' is not built yet");
  }
}
