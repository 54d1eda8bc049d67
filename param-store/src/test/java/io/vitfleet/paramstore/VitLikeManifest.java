package io.vitfleet.paramstore;

import io.vitfleet.protocol.ParameterManifest;
import io.vitfleet.protocol.ParameterSpec;
import java.util.ArrayList;
import java.util.List;

/** A ViT-B/16 manifest (224px, MAP head, 1000 classes) with the model's names and shapes, for tests. */
final class VitLikeManifest {
  private VitLikeManifest() {
  }

  static ParameterManifest base16() {
    int w = 768;
    int mlp = 3072;
    int heads = 12;
    int hd = 64;
    List<ParameterSpec> p = new ArrayList<>();
    p.add(new ParameterSpec("embedding/kernel", new int[] {16, 16, 3, w}));
    p.add(new ParameterSpec("embedding/bias", new int[] {w}));
    p.add(new ParameterSpec("pos_embedding", new int[] {1, 196, w}));
    for (int b = 0; b < 12; b++) {
      block(p, "encoder/block_" + b + "/", w, mlp, heads, hd);
    }
    p.add(new ParameterSpec("encoder/encoder_norm/scale", new int[] {w}));
    p.add(new ParameterSpec("encoder/encoder_norm/bias", new int[] {w}));
    p.add(new ParameterSpec("map_head/probe", new int[] {1, 1, w}));
    block(p, "map_head/", w, mlp, heads, hd);
    p.add(new ParameterSpec("head/kernel", new int[] {w, 1000}));
    p.add(new ParameterSpec("head/bias", new int[] {1000}));
    return new ParameterManifest(p);
  }

  private static void block(List<ParameterSpec> p, String prefix, int w, int mlp, int heads, int hd) {
    p.add(new ParameterSpec(prefix + "layer_norm_0/scale", new int[] {w}));
    p.add(new ParameterSpec(prefix + "layer_norm_0/bias", new int[] {w}));
    for (String proj : new String[] {"query", "key", "value"}) {
      p.add(new ParameterSpec(prefix + "attention/" + proj + "/kernel", new int[] {w, heads, hd}));
      p.add(new ParameterSpec(prefix + "attention/" + proj + "/bias", new int[] {heads, hd}));
    }
    p.add(new ParameterSpec(prefix + "attention/out/kernel", new int[] {heads, hd, w}));
    p.add(new ParameterSpec(prefix + "attention/out/bias", new int[] {w}));
    p.add(new ParameterSpec(prefix + "layer_norm_1/scale", new int[] {w}));
    p.add(new ParameterSpec(prefix + "layer_norm_1/bias", new int[] {w}));
    p.add(new ParameterSpec(prefix + "mlp/dense_0/kernel", new int[] {w, mlp}));
    p.add(new ParameterSpec(prefix + "mlp/dense_0/bias", new int[] {mlp}));
    p.add(new ParameterSpec(prefix + "mlp/dense_1/kernel", new int[] {mlp, w}));
    p.add(new ParameterSpec(prefix + "mlp/dense_1/bias", new int[] {w}));
  }
}
