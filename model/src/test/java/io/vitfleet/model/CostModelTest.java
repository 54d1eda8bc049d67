package io.vitfleet.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.List;
import org.junit.jupiter.api.Test;

class CostModelTest {

  /**
   * The paper's Table 2 (spec/vit.md), as printed: parameters in millions without pooling head and classifier,
   * forward GFLOPs at 224px (null: not given).
   */
  private record Row(String model, String paramsM, Double gflops) {
  }

  private static final List<Row> TABLE_2 = List.of(
      new Row("s/28", "5.4", 0.7),
      new Row("s/16", "5.0", 2.2),
      new Row("Ti/16", "5.5", 2.5),
      new Row("S/32", "22", 2.3),
      new Row("S/16", "22", 9.2),
      new Row("B/32", "87", 8.7),
      new Row("B/28", "87", 11.3),
      new Row("B/16", "86", 35.1),
      new Row("L/16", "303", 122.9),
      new Row("H/14", "632", null),
      new Row("g/14", "1011", 533.1),
      new Row("G/14", "1843", 965.3));

  private static ViTConfig at224(String model) {
    return ViTConfig.of(model, 224, 3, 1000);
  }

  @Test
  void encoderParamsMatchTable2WithinOnePercentOrAtThePrintedPrecision() {
    for (Row row : TABLE_2) {
      double paper = Double.parseDouble(row.paramsM());
      double ours = CostModel.encoderParams(at224(row.model())) / 1e6;
      double relative = Math.abs(ours / paper - 1);
      // Table 2 prints S/32 and S/16 as "22": integer millions, +-2.3%. Our exact counts (22.49M and 21.66M, the
      // patch embedding differing by 1.2M between patch 32 and 16) both print as 22, but differ from 22 by more
      // than 1%. Every other row agrees within 1%.
      boolean printedAsInteger = row.paramsM().indexOf('.') < 0;
      boolean sameWhenPrinted = BigDecimal.valueOf(ours).setScale(new BigDecimal(row.paramsM()).scale(),
          RoundingMode.HALF_EVEN).compareTo(new BigDecimal(row.paramsM())) == 0;
      assertTrue(relative <= 0.01 || (printedAsInteger && sameWhenPrinted),
          row.model() + ": " + ours + "M parameters, Table 2 says " + row.paramsM() + "M");
    }
  }

  @Test
  void encoderGflopsMatchTable2WithinThreePercent() {
    for (Row row : TABLE_2) {
      if (row.gflops() == null) {
        continue;
      }
      double ours = CostModel.encoderFlops(at224(row.model())) / 1e9;
      assertEquals(row.gflops(), ours, 0.03 * row.gflops(),
          row.model() + ": " + ours + " GFLOPs, Table 2 says " + row.gflops());
    }
  }

  @Test
  void tiSixteenCountsByHand() {
    ViTConfig c = at224("Ti/16");
    // LN 2x(2x192) + q,k,v,out kernels 4x192x192 and biases 4x192 + MLP 2x192x768 + 768 + 192.
    assertEquals(768 + 147_456 + 768 + 294_912 + 960, CostModel.blockParams(c));
    // Patch kernel 16x16x3x192 + bias 192 + positions 196x192, 12 blocks, encoder_norm 2x192.
    assertEquals(147_648 + 37_632 + 12 * 444_864 + 384, CostModel.encoderParams(c));
    CostModel.BlockFlops b = CostModel.blockFlopsBreakdown(c);
    assertEquals(2L * 196 * 192 * 576, b.qkvProjection());
    assertEquals(2L * 196 * 196 * 192, b.attentionScores());
    assertEquals(2L * 196 * 196 * 192, b.attentionMix());
    assertEquals(2L * 196 * 192 * 192, b.outProjection());
    assertEquals(2L * 2 * 196 * 192 * 768, b.mlp());
    assertEquals(b.total(), CostModel.blockFlops(c));
    assertEquals(2L * 196 * 768 * 192 + 12 * b.total(), CostModel.encoderFlops(c));
  }

  @Test
  void forwardFlopsAddTheMapHeadAndClassifierToTheEncoder() {
    ViTConfig c = at224("B/16");
    long w = 768;
    long t = 196;
    long map = 2 * w * w + 2 * t * w * 2 * w + 4 * t * w + 2 * w * w + 4 * w * 3072;
    assertEquals(CostModel.encoderFlops(c) + map + 2 * w * 1000, CostModel.forwardFlops(c));
    assertEquals(CostModel.encoderFlops(c) + 2 * w * 1000, CostModel.forwardFlops(c.withHead(HeadType.GAP)));
  }

  @Test
  void layersCoverEveryParameterOfTheManifestInModelOrder() {
    for (HeadType head : HeadType.values()) {
      ViTConfig c = at224("S/16").withHead(head);
      List<LayerCost> layers = CostModel.layers(c);
      assertEquals(c.depth() + 4, layers.size());
      assertEquals("embedding", layers.get(0).name());
      assertEquals("encoder/block_0", layers.get(1).name());
      assertEquals("encoder/block_11", layers.get(12).name());
      assertEquals("encoder/encoder_norm", layers.get(13).name());
      assertEquals(LayerCost.Kind.POOLING, layers.get(14).kind());
      assertEquals("head", layers.get(15).name());
      long sum = layers.stream().mapToLong(LayerCost::params).sum();
      assertEquals(ViTParameters.manifest(c).totalSize(), sum, head.id());
      assertEquals(sum, CostModel.totalParams(c));
    }
  }

  @Test
  void theTokenHeadsClassTokenIsPartOfTheEmbeddingAndTheSequence() {
    ViTConfig c = at224("Ti/16").withHead(HeadType.TOKEN);
    LayerCost embedding = CostModel.layers(c).get(0);
    assertEquals(147_648 + 37_632 + 192, embedding.params());
    assertEquals(4L * 197 * 192, embedding.activationBytesPerImage());
    assertEquals(2L * 197 * 197 * 192, CostModel.blockFlopsBreakdown(c).attentionScores());
  }

  @Test
  void activationBytesAreTheFp32OutputOfEachLayer() {
    ViTConfig c = ViTConfig.of("Ti/4", 28, 1, 10);
    List<LayerCost> layers = CostModel.layers(c);
    long tokens = 49;
    assertEquals(4 * tokens * 192, layers.get(0).activationBytesPerImage());
    assertEquals(4 * tokens * 192, layers.get(5).activationBytesPerImage());
    assertEquals(4 * 192, layers.get(layers.size() - 2).activationBytesPerImage());
    assertEquals(4 * 10, layers.get(layers.size() - 1).activationBytesPerImage());
    // LN0 in/out, q, k, v, attention out, LN1 in/out (8 x t x w), GELU in/out (2 x t x mlp), softmax (h x t x t).
    assertEquals(4 * (8 * tokens * 192 + 2 * tokens * 768 + 3 * tokens * tokens), layers.get(5).savedBytesPerImage());
    assertEquals(4 * 16 * 49, layers.get(0).savedBytesPerImage());
  }

  @Test
  void stageLayersSplitAsTheStageManifestDoes() {
    ViTConfig c = at224("B/16");
    int[][] splits = {{0, 12}, {0, 4}, {4, 9}, {9, 12}};
    for (int[] s : splits) {
      List<LayerCost> stage = CostModel.stageLayers(c, s[0], s[1]);
      assertEquals(ViTParameters.stageManifest(c, s[0], s[1]).totalSize(),
          stage.stream().mapToLong(LayerCost::params).sum(), "[" + s[0] + ", " + s[1] + ")");
    }
    assertEquals("encoder/block_4", CostModel.stageLayers(c, 4, 9).get(0).name());
    assertEquals("encoder/block_8", CostModel.stageLayers(c, 4, 9).get(4).name());
    assertEquals("head", CostModel.stageLayers(c, 9, 12).get(5).name());
    assertThrows(IllegalArgumentException.class, () -> CostModel.stageLayers(c, 5, 5));
    assertThrows(IllegalArgumentException.class, () -> CostModel.stageLayers(c, 0, 13));
  }

  @Test
  void layerOfMapsParameterNamesToLayers() {
    assertEquals("embedding", CostModel.layerOf("pos_embedding"));
    assertEquals("embedding", CostModel.layerOf("cls"));
    assertEquals("encoder/block_7", CostModel.layerOf("encoder/block_7/mlp/dense_0/kernel"));
    assertEquals("encoder/encoder_norm", CostModel.layerOf("encoder/encoder_norm/scale"));
    assertEquals("map_head", CostModel.layerOf("map_head/probe"));
    assertEquals("head", CostModel.layerOf("head/kernel"));
  }
}
