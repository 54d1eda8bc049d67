package io.vitfleet.model;

import io.vitfleet.protocol.ParameterSpec;
import io.vitfleet.protocol.SecondMomentLayout;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The size of a model, what one forward pass costs, and the memory its parameters and optimizer state take: the
 * report of {@code vitfleet model info}, kept here so that anything that sizes a job sees the same numbers.
 *
 * @param config              the model
 * @param paramsEncoder       parameters as the paper's Table 2 counts them (no pooling head, no classifier)
 * @param paramsTotal         all parameters
 * @param forwardFlops        forward FLOPs per image of the whole model
 * @param encoderFlops        forward FLOPs per image as Table 2 counts them (no pooling head, no classifier)
 * @param bytesParams         fp32 parameters
 * @param bytesAdamState      Adam's state: fp32 m and v, 8 bytes per parameter
 * @param bytesMomentum       this project's optimizer: bf16 momentum, 2 bytes per parameter
 * @param bytesSecondMoment   this project's optimizer: the second moment, factored where the rule allows
 */
public record ModelInfo(ViTConfig config, long paramsEncoder, long paramsTotal, long forwardFlops, long encoderFlops,
                        long bytesParams, long bytesAdamState, long bytesMomentum, long bytesSecondMoment) {

  private static final double MIB = 1024.0 * 1024;
  private static final double GIB = 1024 * MIB;
  /** Adafactor factors a tensor only when its second-largest dimension reaches this (spec: "The optimizer"). */
  private static final int MIN_DIM_TO_FACTOR = 32;

  public static ModelInfo of(ViTConfig c) {
    long total = 0;
    long secondMoment = 0;
    for (ParameterSpec s : ViTParameters.manifest(c).specs()) {
      total += s.size();
      secondMoment += secondMomentElements(s);
    }
    return new ModelInfo(c, CostModel.encoderParams(c), total, CostModel.forwardFlops(c), CostModel.encoderFlops(c),
        (long) CostModel.FLOAT_BYTES * total, 8 * total, 2 * total, (long) CostModel.FLOAT_BYTES * secondMoment);
  }

  /**
   * Elements of the optimizer's second moment for one tensor: the row and column accumulators of a factored tensor,
   * else a full {@code v} — {@link SecondMomentLayout}, the rule the optimizer in param-store applies.
   */
  public static long secondMomentElements(ParameterSpec s) {
    SecondMomentLayout l = SecondMomentLayout.of(s.shape(), MIN_DIM_TO_FACTOR);
    return l.factored() ? (long) l.rowSize() + l.colSize() : s.size();
  }

  /** The optimizer's whole state: bf16 momentum and the (mostly factored) second moment. */
  public long bytesOptimizerState() {
    return bytesMomentum + bytesSecondMoment;
  }

  public double gflops() {
    return forwardFlops / 1e9;
  }

  public double encoderGflops() {
    return encoderFlops / 1e9;
  }

  /** The report as JSON-ready values, with snake_case keys (the {@code --json} file of the CLI). */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("variant", config.name());
    m.put("image", config.image());
    m.put("patch", config.patch());
    m.put("channels", config.channels());
    m.put("classes", config.classes());
    m.put("head", config.head().id());
    m.put("tokens", config.tokens());
    m.put("width", config.width());
    m.put("depth", config.depth());
    m.put("mlp", config.mlp());
    m.put("heads", config.heads());
    m.put("params_encoder", paramsEncoder);
    m.put("params_total", paramsTotal);
    m.put("gflops", gflops());
    m.put("gflops_encoder", encoderGflops());
    m.put("bytes_params", bytesParams);
    m.put("bytes_adam_state", bytesAdamState);
    m.put("bytes_optimizer_state", bytesOptimizerState());
    m.put("bytes_optimizer_momentum", bytesMomentum);
    m.put("bytes_optimizer_second_moment", bytesSecondMoment);
    return m;
  }

  /** The report as a small text table. */
  public String table() {
    ViTConfig c = config;
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "%s: %dx%dx%d images, %d tokens, %d classes, %s head%n",
        c.name(), c.image(), c.image(), c.channels(), c.tokens(), c.classes(), c.head().id()));
    b.append(String.format(Locale.ROOT, "  width %d, depth %d, mlp %d, heads %d%n%n",
        c.width(), c.depth(), c.mlp(), c.heads()));
    row(b, "parameters, encoder (Table 2)", String.format(Locale.ROOT, "%,d (%.1fM; no pooling head, no classifier)",
        paramsEncoder, paramsEncoder / 1e6));
    row(b, "parameters, total", String.format(Locale.ROOT, "%,d (%.1fM)", paramsTotal, paramsTotal / 1e6));
    row(b, "forward GFLOPs per image", String.format(Locale.ROOT, "%.2f (encoder as in Table 2: %.2f)",
        gflops(), encoderGflops()));
    row(b, "fp32 parameters", memory(bytesParams));
    row(b, "Adam state (fp32 m and v)", memory(bytesAdamState));
    row(b, "this optimizer's state", memory(bytesOptimizerState()) + " (bf16 m " + memory(bytesMomentum)
        + " + factored v " + memory(bytesSecondMoment) + ")");
    return b.toString();
  }

  private static void row(StringBuilder b, String label, String value) {
    b.append(String.format(Locale.ROOT, "  %-30s %s%n", label, value));
  }

  /** GiB from 1 GiB up, MiB below it. */
  private static String memory(long bytes) {
    return bytes >= GIB
        ? String.format(Locale.ROOT, "%.2f GiB", bytes / GIB)
        : String.format(Locale.ROOT, "%.2f MiB", bytes / MIB);
  }
}
