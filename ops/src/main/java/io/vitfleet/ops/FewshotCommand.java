package io.vitfleet.ops;

import io.vitfleet.model.FewShotEvaluator;
import io.vitfleet.ops.train.FewShot;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code vitfleet fewshot}: few-shot linear evaluation of a checkpoint's frozen features. */
@Command(name = "fewshot", mixinStandardHelpOptions = true,
    description = {"Few-shot linear evaluation (spec/vit.md) on the frozen pre_logits features of a checkpoint:",
        "ridge regression fitted on SHOTS training examples per class, scored on the whole test split."})
final class FewshotCommand implements Callable<Integer> {

  @Option(names = "--checkpoint", paramLabel = "DIR", required = true,
      description = "Checkpoint directory of a training run (its latest checkpoint is used).")
  Path checkpoint;

  @Option(names = "--shots", split = ",", defaultValue = "1,5,10,25",
      description = "Examples per class (default: ${DEFAULT-VALUE}).")
  List<Integer> shots;

  @Option(names = "--seeds", defaultValue = "3", description = "Seeds per shot count (default: ${DEFAULT-VALUE}).")
  int seeds;

  @Option(names = "--pool", defaultValue = "" + FewShot.DEFAULT_POOL,
      description = "Training examples the shots are drawn from (default: ${DEFAULT-VALUE}).")
  int pool;

  @Option(names = "--json", paramLabel = "FILE", description = "Write the accuracies as JSON.")
  Path json;

  @Override
  public Integer call() {
    if (seeds <= 0) {
      throw new UserError("--seeds must be positive, got " + seeds);
    }
    if (pool <= 0) {
      throw new UserError("--pool must be positive, got " + pool);
    }
    for (int s : shots) {
      if (s <= 0) {
        throw new UserError("--shots must be positive counts, got " + s);
      }
    }
    List<Long> seedList = new ArrayList<>();
    for (long s = 0; s < seeds; s++) {
      seedList.add(s);
    }
    FewShotEvaluator.Result r = FewShot.evaluate(checkpoint, pool, shots, seedList);
    System.out.print(FewShot.table(r));
    if (json != null) {
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("checkpoint", checkpoint.toString());
      out.put("fewshot", FewShot.json(r));
      JsonOutput.write(json, out);
    }
    return 0;
  }
}
