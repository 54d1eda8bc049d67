package io.vitfleet.ops;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "fewshot", description = "(being built)")
final class FewshotCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    throw new UserError("'fewshot' is not built yet");
  }
}
