package io.vitfleet.ops;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "demo", description = "(being built)")
final class DemoCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    throw new UserError("'demo' is not built yet");
  }
}
