package io.vitfleet.ops;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "model", description = "(being built)")
final class ModelCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    throw new UserError("'model' is not built yet");
  }
}
