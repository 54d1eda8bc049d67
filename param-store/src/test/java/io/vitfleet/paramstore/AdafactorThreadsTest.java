package io.vitfleet.paramstore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vitfleet.protocol.ParameterManifest;
import io.vitfleet.protocol.ParameterSpec;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Spreading an update over threads changes nothing but the time. */
class AdafactorThreadsTest {

  static ParameterManifest mixed() {
    return new ParameterManifest(List.of(
        new ParameterSpec("embedding/kernel", new int[] {4, 4, 3, 64}),
        new ParameterSpec("encoder/block_0/attention/query/kernel", new int[] {64, 4, 16}),
        new ParameterSpec("encoder/block_0/attention/query/bias", new int[] {4, 16}),
        new ParameterSpec("encoder/block_0/mlp/dense_0/kernel", new int[] {64, 256}),
        new ParameterSpec("encoder/block_0/mlp/dense_0/bias", new int[] {256}),
        new ParameterSpec("encoder/block_0/mlp/dense_1/kernel", new int[] {256, 64}),
        new ParameterSpec("pos_embedding", new int[] {1, 49, 64}),
        new ParameterSpec("head/kernel", new int[] {64, 10}),
        new ParameterSpec("head/bias", new int[] {10})));
  }

  static float[] random(long size, long seed, double scale) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] a = new float[(int) size];
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) ((r.nextDouble() * 2 - 1) * scale);
    }
    return a;
  }

  @Test
  void shouldGiveTheSameBitsOnOneTwoAndThreeThreads() throws Exception {
    ParameterManifest m = mixed();
    OptimizerConfig config = OptimizerConfig.defaults(Schedule.rsqrt(100, 2, 10, 10));
    float[][] params = new float[3][];
    byte[][] states = new byte[3][];
    for (int t = 1; t <= 3; t++) {
      Adafactor opt = new Adafactor(config, m, t);
      assertEquals(t, opt.threads());
      OptimizerState state = opt.newState();
      float[] p = random(m.totalSize(), 1, 0.1);
      for (int step = 0; step < 4; step++) {
        opt.step(p, random(m.totalSize(), 100 + step, step % 2 == 0 ? 0.01 : 1.0), state, step);
      }
      params[t - 1] = p;
      states[t - 1] = state.sha256();
    }
    assertArrayEquals(params[0], params[1]);
    assertArrayEquals(params[0], params[2]);
    assertArrayEquals(states[0], states[1]);
    assertArrayEquals(states[0], states[2]);
  }

  @Test
  void shouldRefuseAThreadCountBelowOne() {
    assertThrows(IllegalArgumentException.class,
        () -> new Adafactor(OptimizerConfig.defaults(Schedule.rsqrt(100, 2, 10, 10)), mixed(), 0));
  }
}
