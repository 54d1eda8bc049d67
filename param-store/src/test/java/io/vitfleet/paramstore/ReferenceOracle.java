package io.vitfleet.paramstore;

import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vitfleet.protocol.ParameterManifest;
import io.vitfleet.protocol.ParameterSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The float32 numpy oracle of ../shared/testdata/adafactor-reference.json (made by adafactor_ref.py): its config,
 * manifest, initial parameters, and per step the raw gradients and everything after the update.
 */
final class ReferenceOracle {
  static final String RELATIVE = "shared/testdata/adafactor-reference.json";

  final JsonNode root;
  final ParameterManifest manifest;

  private ReferenceOracle(JsonNode root) {
    this.root = root;
    List<ParameterSpec> specs = new ArrayList<>();
    for (Map.Entry<String, JsonNode> e : root.get("shapes").properties()) {
      int[] shape = new int[e.getValue().size()];
      for (int i = 0; i < shape.length; i++) {
        shape[i] = e.getValue().get(i).asInt();
      }
      specs.add(new ParameterSpec(e.getKey(), shape));
    }
    this.manifest = new ParameterManifest(specs);
  }

  /**
   * Finds the reference by walking up from the working directory (or takes the file named by the system property
   * {@code vitfleet.adafactor.reference}); fails, never skips, when it is missing.
   */
  static ReferenceOracle load() {
    String override = System.getProperty("vitfleet.adafactor.reference");
    if (override != null && !override.isEmpty()) {
      return read(Path.of(override));
    }
    Path dir = Path.of("").toAbsolutePath();
    for (Path d = dir; d != null; d = d.getParent()) {
      Path f = d.resolve(RELATIVE);
      if (Files.isRegularFile(f)) {
        return read(f);
      }
    }
    return fail("no " + RELATIVE + " found in " + dir + " or any folder above it; the Adafactor reference tests "
        + "need ../shared/testdata beside the repository");
  }

  private static ReferenceOracle read(Path f) {
    try {
      return new ReferenceOracle(new ObjectMapper().readTree(f.toFile()));
    } catch (IOException e) {
      throw new AssertionError("cannot read the reference oracle " + f + ": " + e.getMessage(), e);
    }
  }

  JsonNode config() {
    return root.get("config");
  }

  /** The oracle's optimizer config. */
  OptimizerConfig optimizerConfig() {
    JsonNode c = config();
    JsonNode s = c.get("schedule");
    List<Map.Entry<String, Double>> rules = new ArrayList<>();
    for (JsonNode r : c.get("wd_mults")) {
      rules.add(Map.entry(r.get(0).asText(), r.get(1).asDouble()));
    }
    return OptimizerConfig.builder(Schedule.of(s.get("type").asText(), s.get("total").asLong(),
            s.get("warmup").asLong(), s.get("cooldown").asLong(), s.get("timescale").asLong()))
        .lr(c.get("lr").asDouble())
        .wd(c.get("wd").asDouble())
        .rules(WeightDecayRules.of(rules))
        .beta2Cap(c.get("beta2_cap").asDouble())
        .decayRate(c.get("decay_rate").asDouble())
        .eps(c.get("eps").asDouble())
        .momentum(c.get("momentum").asDouble())
        .minDimToFactor(c.get("min_dim_to_factor").asInt())
        .clipNorm(c.get("clip_norm").asDouble())
        .build();
  }

  int steps() {
    return root.get("steps").size();
  }

  JsonNode step(int i) {
    return root.get("steps").get(i);
  }

  /** The initial parameters as one manifest-order flat array. */
  float[] initialParams() {
    return flat(root.get("initial_params"));
  }

  /** Step {@code i}'s raw gradients as one manifest-order flat array. */
  float[] grads(int i) {
    return flat(step(i).get("grads"));
  }

  /** {@code after[name][field]} of step {@code i} (param, m, v_row, v_col, v) as float32, or null when absent. */
  float[] after(int i, String name, String field) {
    JsonNode n = step(i).get("after").get(name).get(field);
    return n == null ? null : floats(n);
  }

  private float[] flat(JsonNode byName) {
    float[] out = new float[(int) manifest.totalSize()];
    for (int t = 0; t < manifest.count(); t++) {
      float[] v = floats(byName.get(manifest.get(t).name()));
      System.arraycopy(v, 0, out, (int) manifest.offset(t), v.length);
    }
    return out;
  }

  static float[] floats(JsonNode array) {
    float[] out = new float[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) array.get(i).asDouble();
    }
    return out;
  }
}
