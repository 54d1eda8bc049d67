package io.vitfleet.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitfleet.protocol.ParameterSpec;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ModelInfoTest {
  private static final double GIB = 1024.0 * 1024 * 1024;

  @Test
  void gFourteenWithAMapHeadAnd29593ClassesMatchesTheSpecsMemoryFigures() {
    ModelInfo info = ModelInfo.of(ViTConfig.of("G/14", 224, 3, 29_593));
    // spec/vit.md: 1.930 B parameters; fp32 params 7.19 GiB; Adam 14.38 GiB; this optimizer 3.60 GiB (m) + 0.03 GiB.
    assertEquals(1.930, info.paramsTotal() / 1e9, 0.0005);
    assertEquals(7.19, info.bytesParams() / GIB, 0.005);
    assertEquals(14.38, info.bytesAdamState() / GIB, 0.005);
    assertEquals(3.60, info.bytesMomentum() / GIB, 0.005);
    assertEquals(0.03, info.bytesSecondMoment() / GIB, 0.005);
    assertEquals(info.bytesMomentum() + info.bytesSecondMoment(), info.bytesOptimizerState());
    assertEquals(CostModel.encoderParams(ViTConfig.of("G/14", 224, 3, 29_593)), info.paramsEncoder());
  }

  @Test
  void theSecondMomentIsFactoredOnlyWhenTheSecondLargestDimensionReaches32() {
    assertEquals(29_593 + 1_664, ModelInfo.secondMomentElements(new ParameterSpec("head/kernel",
        new int[] {1664, 29_593})));
    assertEquals(1664, ModelInfo.secondMomentElements(new ParameterSpec("head/bias", new int[] {1664})));
    // Patch kernel [14, 14, 3, 1664]: second-largest dimension 14, so a full v.
    assertEquals(14 * 14 * 3 * 1664, ModelInfo.secondMomentElements(new ParameterSpec("embedding/kernel",
        new int[] {14, 14, 3, 1664})));
    // [1, 256, 1664]: d0 = 1664, d1 = 256; rows 1 x 256, columns 1 x 1664.
    assertEquals(256 + 1664, ModelInfo.secondMomentElements(new ParameterSpec("pos_embedding",
        new int[] {1, 256, 1664})));
    // Attention kernel [1664, 16, 104]: without d0, 16 x 104; without d1, 1664 x 16.
    assertEquals(16 * 104 + 1664 * 16, ModelInfo.secondMomentElements(new ParameterSpec("q",
        new int[] {1664, 16, 104})));
    assertEquals(31 * 100, ModelInfo.secondMomentElements(new ParameterSpec("a", new int[] {31, 100})));
    assertEquals(32 + 100, ModelInfo.secondMomentElements(new ParameterSpec("b", new int[] {32, 100})));
    assertEquals(64 + 64, ModelInfo.secondMomentElements(new ParameterSpec("c", new int[] {64, 64})));
  }

  @Test
  void theJsonMapHasTheDocumentedKeys() {
    ModelInfo info = ModelInfo.of(ViTConfig.of("Ti/16", 224, 3, 1000));
    Map<String, Object> m = info.toMap();
    for (String key : List.of("variant", "params_encoder", "params_total", "gflops", "bytes_params",
        "bytes_adam_state", "bytes_optimizer_state")) {
      assertTrue(m.containsKey(key), key);
    }
    assertEquals("Ti/16", m.get("variant"));
    assertEquals(info.paramsEncoder(), m.get("params_encoder"));
    assertEquals(info.bytesOptimizerState(), m.get("bytes_optimizer_state"));
    assertEquals(4 * info.paramsTotal(), info.bytesParams());
    assertEquals(8 * info.paramsTotal(), info.bytesAdamState());
  }

  @Test
  void theTableNamesTheModelAndItsNumbers() {
    String table = ModelInfo.of(ViTConfig.of("Ti/16", 224, 3, 1000)).table();
    assertTrue(table.startsWith("Ti/16: 224x224x3 images, 196 tokens, 1000 classes, map head"), table);
    assertTrue(table.contains("5,524,032 (5.5M"), table);
    assertTrue(table.contains("forward GFLOPs per image       2.52 (encoder as in Table 2: 2.49)"), table);
    assertTrue(table.contains("fp32 parameters                23.51 MiB"), table);
    String g14 = ModelInfo.of(ViTConfig.of("G/14", 224, 3, 29_593)).table();
    assertTrue(g14.contains("this optimizer's state         3.63 GiB (bf16 m 3.60 GiB + factored v 33.15 MiB)"), g14);
  }
}
