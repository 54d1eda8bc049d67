package io.vitfleet.bench;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "train-step", description = "(being built)")
final class TrainStepBench implements Callable<Integer> {
  @Override
  public Integer call() {
    throw new io.vitfleet.ops.UserError("'bench train-step' is not built yet");
  }
}
