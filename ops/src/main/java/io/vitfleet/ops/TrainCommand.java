package io.vitfleet.ops;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "train", description = "(being built)")
final class TrainCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    throw new UserError("'train' is not built yet");
  }
}
