package io.vitfleet.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vitfleet.protocol.ParameterManifest;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The graph computes big_vision's ViT: a plain-Java float64 forward pass written from {@code spec/vit.md} (patch order
 * (py, px, c), position embedding before the [class] token, pre-LN blocks, LayerNorm eps 1e-6, tanh GELU, attention
 * scaled by 1/sqrt(headDim), MAP pooling) gives the same activations and loss as the float64 graph.
 */
class VisionTransformerReferenceTest {
  private static final int BATCH = 2;

  @ParameterizedTest
  @EnumSource(HeadType.class)
  void softmaxLossEqualsAPlainJavaForwardPass(HeadType head) {
    checkLoss(VisionTransformerGradientTest.tiny(2, head, LossType.SOFTMAX), 21);
  }

  @Test
  void sigmoidLossEqualsAPlainJavaForwardPass() {
    checkLoss(VisionTransformerGradientTest.tiny(2, HeadType.GAP, LossType.SIGMOID), 22);
  }

  @ParameterizedTest
  @EnumSource(HeadType.class)
  void firstStageActivationEqualsAPlainJavaForwardPass(HeadType head) {
    ViTConfig c = VisionTransformerGradientTest.tiny(2, head, LossType.SOFTMAX);
    SplittableRandom rnd = new SplittableRandom(23);
    ParameterManifest full = ViTParameters.manifest(c);
    double[] params = noisy(c, full, rnd);
    double[] images = VisionTransformerGradientTest.gaussian(rnd, BATCH * c.image() * c.image() * c.channels(), 1);
    try (StageGraph g = StageGraph.training64(c, 0, 1, BATCH, 1)) {
      double[] stageParams = slice(params, full, g.manifest());
      double[] out = g.forwardBackward(stageParams, images, null, new double[g.activationSize(BATCH)], 1,
          new double[stageParams.length]).output();
      Reference ref = new Reference(c, full, params);
      int per = c.tokens() * c.width();
      for (int n = 0; n < BATCH; n++) {
        double[][] x = ref.block(0, ref.embed(images, n));
        for (int t = 0; t < c.tokens(); t++) {
          for (int w = 0; w < c.width(); w++) {
            assertEquals(x[t][w], out[n * per + t * c.width() + w], 1e-12, "image " + n + " token " + t + " dim " + w);
          }
        }
      }
    }
  }

  private static void checkLoss(ViTConfig c, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    ParameterManifest full = ViTParameters.manifest(c);
    double[] params = noisy(c, full, rnd);
    double[] images = VisionTransformerGradientTest.gaussian(rnd, BATCH * c.image() * c.image() * c.channels(), 1);
    int[] labels = {rnd.nextInt(c.classes()), rnd.nextInt(c.classes())};
    double graphLoss;
    try (StageGraph g = StageGraph.training64(c, 0, c.depth(), BATCH, 1)) {
      graphLoss = g.forwardBackward(params, images, labels, null, 1, new double[params.length]).loss();
    }
    Reference ref = new Reference(c, full, params);
    double expected = 0;
    for (int n = 0; n < BATCH; n++) {
      expected += ref.loss(ref.logits(images, n), labels[n]);
    }
    assertEquals(expected, graphLoss, 1e-12 * Math.max(1, Math.abs(expected)));
  }

  private static double[] noisy(ViTConfig c, ParameterManifest m, SplittableRandom rnd) {
    double[] p = VisionTransformerGradientTest.toDouble(ViTParameters.initialise(c, m, 5));
    for (int i = 0; i < p.length; i++) {
      p[i] += 0.3 * VisionTransformerGradientTest.gaussian(rnd);
    }
    return p;
  }

  private static double[] slice(double[] buffer, ParameterManifest full, ParameterManifest sub) {
    double[] out = new double[(int) sub.totalSize()];
    for (int i = 0; i < sub.count(); i++) {
      System.arraycopy(buffer, (int) full.offset(full.indexOf(sub.get(i).name())), out, (int) sub.offset(i),
          (int) sub.get(i).size());
    }
    return out;
  }

  /** The ViT of spec/vit.md, one image at a time, in loops over row-major parameter buffers. */
  private record Reference(ViTConfig c, ParameterManifest m, double[] p) {

    /** Element {@code k} of the named row-major parameter. */
    double w(String name, int k) {
      return p[(int) m.offset(m.indexOf(name)) + k];
    }

    double[][] embed(double[] images, int n) {
      int side = c.image() / c.patch();
      int pp = c.patch();
      int ch = c.channels();
      int width = c.width();
      int tokens = c.tokens();
      int first = c.head() == HeadType.TOKEN ? 1 : 0;
      double[][] x = new double[tokens][width];
      int imageBase = n * c.image() * c.image() * ch;
      for (int gy = 0; gy < side; gy++) {
        for (int gx = 0; gx < side; gx++) {
          int patchIndex = gy * side + gx;
          for (int o = 0; o < width; o++) {
            double s = w("embedding/bias", o);
            for (int py = 0; py < pp; py++) {
              for (int px = 0; px < pp; px++) {
                for (int k = 0; k < ch; k++) {
                  double pixel = images[imageBase + ((gy * pp + py) * c.image() + gx * pp + px) * ch + k];
                  s += pixel * w("embedding/kernel", ((py * pp + px) * ch + k) * width + o);
                }
              }
            }
            x[first + patchIndex][o] = s + w("pos_embedding", patchIndex * width + o);
          }
        }
      }
      if (first == 1) {
        for (int o = 0; o < width; o++) {
          x[0][o] = w("cls", o);
        }
      }
      return x;
    }

    double[][] block(int i, double[][] x) {
      String b = ViTParameters.block(i);
      double[][] y = layerNorm(b + "layer_norm_0/", x);
      x = add(x, attention(b + "attention/", y, y));
      return add(x, mlp(b + "mlp/", layerNorm(b + "layer_norm_1/", x)));
    }

    double[] logits(double[] images, int n) {
      double[][] x = embed(images, n);
      for (int i = 0; i < c.depth(); i++) {
        x = block(i, x);
      }
      x = layerNorm("encoder/encoder_norm/", x);
      double[] pooled = new double[c.width()];
      switch (c.head()) {
        case GAP -> {
          for (double[] token : x) {
            for (int o = 0; o < c.width(); o++) {
              pooled[o] += token[o] / x.length;
            }
          }
        }
        case TOKEN -> pooled = x[0];
        case MAP -> {
          double[][] probe = new double[1][c.width()];
          for (int o = 0; o < c.width(); o++) {
            probe[0][o] = w("map_head/probe", o);
          }
          double[][] y = attention("map_head/attention/", probe, x);
          y = add(y, mlp("map_head/mlp/", layerNorm("map_head/layer_norm/", y)));
          pooled = y[0];
        }
        default -> throw new IllegalStateException();
      }
      double[] logits = new double[c.classes()];
      for (int k = 0; k < c.classes(); k++) {
        double s = w("head/bias", k);
        for (int o = 0; o < c.width(); o++) {
          s += pooled[o] * w("head/kernel", o * c.classes() + k);
        }
        logits[k] = s;
      }
      return logits;
    }

    double loss(double[] logits, int label) {
      if (c.loss() == LossType.SOFTMAX) {
        double max = Double.NEGATIVE_INFINITY;
        for (double l : logits) {
          max = Math.max(max, l);
        }
        double sum = 0;
        for (double l : logits) {
          sum += Math.exp(l - max);
        }
        return max + Math.log(sum) - logits[label];
      }
      double s = 0;
      for (int k = 0; k < logits.length; k++) {
        s += Math.log1p(Math.exp(logits[k])) - (k == label ? logits[k] : 0);
      }
      return s;
    }

    double[][] layerNorm(String prefix, double[][] x) {
      double[][] out = new double[x.length][];
      for (int t = 0; t < x.length; t++) {
        double mean = 0;
        for (double v : x[t]) {
          mean += v / x[t].length;
        }
        double var = 0;
        for (double v : x[t]) {
          var += (v - mean) * (v - mean) / x[t].length;
        }
        out[t] = new double[x[t].length];
        for (int o = 0; o < x[t].length; o++) {
          out[t][o] = (x[t][o] - mean) / Math.sqrt(var + 1e-6) * w(prefix + "scale", o) + w(prefix + "bias", o);
        }
      }
      return out;
    }

    double[][] attention(String prefix, double[][] inQ, double[][] inKv) {
      int heads = c.heads();
      int d = c.variant().headDim();
      double[][][] q = project(prefix + "query/", inQ);
      double[][][] k = project(prefix + "key/", inKv);
      double[][][] v = project(prefix + "value/", inKv);
      double[][] out = new double[inQ.length][c.width()];
      for (int i = 0; i < inQ.length; i++) {
        double[][] mixed = new double[heads][d];
        for (int h = 0; h < heads; h++) {
          double[] a = new double[inKv.length];
          double max = Double.NEGATIVE_INFINITY;
          for (int j = 0; j < inKv.length; j++) {
            double s = 0;
            for (int e = 0; e < d; e++) {
              s += q[i][h][e] * k[j][h][e];
            }
            a[j] = s / Math.sqrt(d);
            max = Math.max(max, a[j]);
          }
          double z = 0;
          for (int j = 0; j < a.length; j++) {
            a[j] = Math.exp(a[j] - max);
            z += a[j];
          }
          for (int j = 0; j < a.length; j++) {
            for (int e = 0; e < d; e++) {
              mixed[h][e] += a[j] / z * v[j][h][e];
            }
          }
        }
        for (int o = 0; o < c.width(); o++) {
          double s = w(prefix + "out/bias", o);
          for (int h = 0; h < heads; h++) {
            for (int e = 0; e < d; e++) {
              s += mixed[h][e] * w(prefix + "out/kernel", (h * d + e) * c.width() + o);
            }
          }
          out[i][o] = s;
        }
      }
      return out;
    }

    /** DenseGeneral {@code [width] -> [heads, headDim]} of every token. */
    double[][][] project(String prefix, double[][] x) {
      int heads = c.heads();
      int d = c.variant().headDim();
      double[][][] out = new double[x.length][heads][d];
      for (int t = 0; t < x.length; t++) {
        for (int h = 0; h < heads; h++) {
          for (int e = 0; e < d; e++) {
            double s = w(prefix + "bias", h * d + e);
            for (int o = 0; o < c.width(); o++) {
              s += x[t][o] * w(prefix + "kernel", (o * heads + h) * d + e);
            }
            out[t][h][e] = s;
          }
        }
      }
      return out;
    }

    double[][] mlp(String prefix, double[][] x) {
      double[][] out = new double[x.length][c.width()];
      for (int t = 0; t < x.length; t++) {
        double[] hidden = new double[c.mlp()];
        for (int u = 0; u < c.mlp(); u++) {
          double s = w(prefix + "dense_0/bias", u);
          for (int o = 0; o < c.width(); o++) {
            s += x[t][o] * w(prefix + "dense_0/kernel", o * c.mlp() + u);
          }
          hidden[u] = 0.5 * s * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (s + 0.044715 * s * s * s)));
        }
        for (int o = 0; o < c.width(); o++) {
          double s = w(prefix + "dense_1/bias", o);
          for (int u = 0; u < c.mlp(); u++) {
            s += hidden[u] * w(prefix + "dense_1/kernel", u * c.width() + o);
          }
          out[t][o] = s;
        }
      }
      return out;
    }

    static double[][] add(double[][] a, double[][] b) {
      double[][] out = new double[a.length][a[0].length];
      for (int t = 0; t < a.length; t++) {
        for (int o = 0; o < a[t].length; o++) {
          out[t][o] = a[t][o] + b[t][o];
        }
      }
      return out;
    }
  }
}
