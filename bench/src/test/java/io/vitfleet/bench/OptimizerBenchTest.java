package io.vitfleet.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitfleet.model.ModelInfo;
import io.vitfleet.model.ViTConfig;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The optimizer bench's model and its state figures (the update's speed is measured by the bench itself). */
class OptimizerBenchTest {

  @Test
  void theBenchModelIsAViTB32OfAbout100MParametersWithAtMost2_05StateBytesPerParameter() {
    ViTConfig model = OptimizerBench.modelOfAbout(100_000_000L);
    ModelInfo info = ModelInfo.of(model);
    assertEquals(32, model.patch());
    assertEquals(768, model.width());
    assertEquals(100e6, info.paramsTotal(), 5e6, "parameters of " + model.describe());
    double perParam = (double) info.bytesOptimizerState() / info.paramsTotal();
    assertTrue(perParam <= 2.05, model.describe() + ": " + perParam + " state bytes per parameter");
  }

  @Test
  void theStateTableListsThePaperModelsAndB16IsAboveB32ForItsUnfactoredPatchKernel() {
    Map<String, Double> table = OptimizerBench.stateTable();
    assertEquals(java.util.List.of("B/16", "B/32", "L/16", "H/14", "g/14", "G/14"), java.util.List.copyOf(table.keySet()));
    for (Map.Entry<String, Double> e : table.entrySet()) {
      assertTrue(e.getValue() > 2.0 && e.getValue() < 2.1, e.toString());
    }
    // 16x16x3x768 stays unfactored (second-largest dimension 16 < 32): 589,824 fp32 v entries on 86M parameters.
    assertTrue(table.get("B/16") - table.get("B/32") > 0.02, table.toString());
    assertTrue(table.get("G/14") < table.get("L/16"), table.toString());
  }
}
