package io.vitfleet.paramstore.store;

import io.vitfleet.paramstore.FlatFloats;
import io.vitfleet.paramstore.OptimizerState;
import io.vitfleet.protocol.ParameterManifest;
import io.vitfleet.protocol.ParameterSpec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * A small shard and a "training run" whose content at every step is a known function of the step, so a test can
 * say exactly what a recovered store must hold.
 */
final class StoreFixtures {
  /** Tensors of the shard: a factored matrix, a bias, a small unfactored matrix (min_dim_to_factor below). */
  static final ParameterManifest SMALL = new ParameterManifest(List.of(
      new ParameterSpec("block_0/mlp/kernel", new int[] {40, 30}),
      new ParameterSpec("block_0/mlp/bias", new int[] {100}),
      new ParameterSpec("block_0/norm/scale", new int[] {3, 5})));
  static final int MIN_DIM_TO_FACTOR = 8;

  private StoreFixtures() {}

  /** A manifest of {@code tensors} tensors of about {@code floatsEach} floats each. */
  static ParameterManifest manifest(int tensors, int rows, int cols) {
    ParameterSpec[] specs = new ParameterSpec[tensors];
    for (int i = 0; i < tensors; i++) {
      specs[i] = new ParameterSpec("encoder/block_" + i + "/kernel", new int[] {rows + i, cols});
    }
    return new ParameterManifest(List.of(specs));
  }

  static FlatFloats params(ParameterManifest m, long step) {
    float[][] t = new float[m.count()][];
    for (int i = 0; i < t.length; i++) {
      t[i] = new float[(int) m.get(i).size()];
      for (int j = 0; j < t[i].length; j++) {
        t[i][j] = (float) (step * 1e-3 + i * 0.5 + Math.sin(j + step));
      }
    }
    return FlatFloats.ofTensors(m, t);
  }

  static OptimizerState state(ParameterManifest m, long step) {
    OptimizerState s = OptimizerState.zeros(m, MIN_DIM_TO_FACTOR);
    for (int i = 0; i < m.count(); i++) {
      int size = (int) m.get(i).size();
      for (int j = 0; j < size; j++) {
        s.setMomentumBf16(i, j, (short) (step * 31 + j));
      }
      float[][] moments = s.layout(i).factored()
          ? new float[][] {s.secondMomentRows(i), s.secondMomentCols(i)}
          : new float[][] {s.secondMoment(i)};
      for (float[] v : moments) {
        for (int j = 0; j < v.length; j++) {
          v[j] = step + j * 0.25f;
        }
      }
    }
    return s;
  }

  static long stateBytes(OptimizerState s) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      s.writeTo(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.size();
  }

  /** Null if the store's committed content is exactly that of {@code step}, else what differs. */
  static String mismatch(ShardStore store, long step) {
    ParameterManifest m = store.manifest();
    FlatFloats expected = params(m, step);
    for (int i = 0; i < m.count(); i++) {
      float[] got = store.committedParams(i);
      for (int j = 0; j < got.length; j++) {
        if (Float.floatToRawIntBits(got[j]) != Float.floatToRawIntBits(expected.get(i, j))) {
          return "tensor " + m.get(i) + " element " + j + " is " + got[j] + ", step " + step + " has "
              + expected.get(i, j);
        }
      }
    }
    if (!java.util.Arrays.equals(store.committedState().sha256(), state(m, step).sha256())) {
      return "optimizer state differs from step " + step + "'s";
    }
    return null;
  }
}
