package io.vitfleet.ops;

import io.vitfleet.model.HeadType;
import io.vitfleet.model.LossType;
import io.vitfleet.model.ModelInfo;
import io.vitfleet.model.ViTConfig;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code vitfleet model}: questions about a model before any cluster exists. */
@Command(name = "model", description = "Inspect a model of the ViT family.",
    subcommands = {ModelCommand.Info.class})
final class ModelCommand implements Callable<Integer> {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    throw new CommandLine.ParameterException(spec.commandLine(),
        "missing subcommand; use 'vitfleet model info <variant>', e.g. 'vitfleet model info G/14'");
  }

  /** {@code vitfleet model info}: parameters, forward GFLOPs and optimizer memory of one config. */
  @Command(name = "info",
      description = {"Parameters, forward GFLOPs per image and parameter/optimizer memory of a model.",
          "Parameters 'as Table 2' exclude the pooling head and the classifier, as the paper counts them.",
          "GFLOPs count 2 x multiply-adds of every matrix product (elementwise ops excluded)."})
  static final class Info implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "<variant>",
        description = "NAME/PATCH as the paper writes it, e.g. G/14, Ti/16, s/28 (names are case-sensitive).")
    String variant;

    @Option(names = "--patch", paramLabel = "P", description = "Patch size; overrides the one in <variant>.")
    Integer patch;

    @Option(names = "--image", paramLabel = "S", defaultValue = "224",
        description = "Image side in pixels, a multiple of the patch size (default: ${DEFAULT-VALUE}).")
    int image;

    @Option(names = "--channels", paramLabel = "N", defaultValue = "3",
        description = "Input channels (default: ${DEFAULT-VALUE}).")
    int channels;

    @Option(names = "--classes", paramLabel = "C", defaultValue = "1000",
        description = "Classifier outputs (default: ${DEFAULT-VALUE}).")
    int classes;

    @Option(names = "--head", paramLabel = "map|gap|token", defaultValue = "map",
        description = "Pooling head (default: ${DEFAULT-VALUE}).")
    String head;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the report as JSON to FILE.")
    Path json;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      ViTConfig config = ViTConfig.of(variant, patch, image, channels, classes, HeadType.parse(head),
          LossType.SOFTMAX);
      ModelInfo info = ModelInfo.of(config);
      spec.commandLine().getOut().print(info.table());
      spec.commandLine().getOut().flush();
      if (json != null) {
        JsonOutput.write(json, info.toMap());
      }
      return 0;
    }
  }
}
