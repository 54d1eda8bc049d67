package io.vitfleet.paramstore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitfleet.protocol.ParameterManifest;
import io.vitfleet.protocol.ParameterSpec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OptimizerStateTest {

  /** A small model with a factored kernel large enough (2 MiB of momentum) to cross the 1 MiB I/O buffer. */
  private static ParameterManifest manifest() {
    return new ParameterManifest(List.of(
        new ParameterSpec("encoder/block_0/mlp/dense_0/kernel", new int[] {1024, 1024}),
        new ParameterSpec("encoder/block_0/mlp/dense_0/bias", new int[] {1024}),
        new ParameterSpec("encoder/block_0/attention/query/kernel", new int[] {64, 4, 48}),
        new ParameterSpec("pos_embedding", new int[] {1, 16, 64}),
        new ParameterSpec("head/kernel", new int[] {64, 10})));
  }

  /** A state after a few real updates, so every array holds non-trivial bits. */
  private static OptimizerState trainedState(ParameterManifest m) {
    Adafactor opt = new Adafactor(OptimizerConfig.defaults(Schedule.rsqrt(100, 2, 10, 10)), m);
    OptimizerState state = opt.newState();
    float[] params = new float[(int) m.totalSize()];
    SplittableRandom rnd = new SplittableRandom(11);
    for (int step = 0; step < 3; step++) {
      float[] g = new float[params.length];
      for (int i = 0; i < g.length; i++) {
        g[i] = (float) rnd.nextGaussian() * 1e-3f;
      }
      opt.step(params, g, state, step);
    }
    return state;
  }

  private static byte[] bytesOf(OptimizerState s) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      s.write(out);
    }
    return bytes.toByteArray();
  }

  @Test
  void shouldRestoreBitIdenticallyThroughDataOutputAndDataInput() throws IOException {
    ParameterManifest m = manifest();
    OptimizerState state = trainedState(m);
    byte[] saved = bytesOf(state);
    OptimizerState restored = OptimizerState.read(new DataInputStream(new ByteArrayInputStream(saved)), m);
    assertArrayEquals(saved, bytesOf(restored), "saving the restored state gives the same bytes");
    assertArrayEquals(state.sha256(), restored.sha256());
    for (int t = 0; t < m.count(); t++) {
      assertArrayEquals(state.momentumBf16(t), restored.momentumBf16(t));
      if (state.layout(t).factored()) {
        assertArrayEquals(state.secondMomentRows(t), restored.secondMomentRows(t));
        assertArrayEquals(state.secondMomentCols(t), restored.secondMomentCols(t));
      } else {
        assertArrayEquals(state.secondMoment(t), restored.secondMoment(t));
      }
    }
  }

  @Test
  void shouldRestoreBitIdenticallyThroughAFileChannelAndStreams(@TempDir Path dir) throws IOException {
    ParameterManifest m = manifest();
    OptimizerState state = trainedState(m);
    Path file = dir.resolve("optimizer.bin");
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      state.writeTo(ch);
    }
    assertArrayEquals(bytesOf(state), java.nio.file.Files.readAllBytes(file));
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      assertArrayEquals(state.sha256(), OptimizerState.readFrom(ch, m).sha256());
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    state.writeTo(out);
    assertArrayEquals(state.sha256(), OptimizerState.readFrom(new ByteArrayInputStream(out.toByteArray()), m)
        .sha256());
  }

  @Test
  void shouldReadExactlyItsOwnBytesFromALongerStream() throws IOException {
    ParameterManifest m = manifest();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      trainedState(m).write(out);
      out.writeInt(0xC0FFEE);
    }
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes.toByteArray()));
    OptimizerState.read(in, m);
    assertEquals(0xC0FFEE, in.readInt());
  }

  @Test
  void shouldContinueTrainingBitIdenticallyAfterARestore() throws IOException {
    ParameterManifest m = manifest();
    OptimizerState state = trainedState(m);
    OptimizerState restored = OptimizerState.read(
        new DataInputStream(new ByteArrayInputStream(bytesOf(state))), m);
    Adafactor opt = new Adafactor(OptimizerConfig.defaults(Schedule.rsqrt(100, 2, 10, 10)), m);
    float[] g = new float[(int) m.totalSize()];
    Arrays.fill(g, 1e-4f);
    float[] p1 = new float[g.length];
    float[] p2 = new float[g.length];
    opt.step(p1, g, state, 3);
    opt.step(p2, g, restored, 3);
    assertArrayEquals(p1, p2);
    assertArrayEquals(state.sha256(), restored.sha256());
  }

  @Test
  void shouldReportTruncationWithTheByteOffset() throws IOException {
    ParameterManifest m = manifest();
    byte[] saved = bytesOf(trainedState(m));
    byte[] cut = Arrays.copyOf(saved, saved.length - 100);
    EOFException e = assertThrows(EOFException.class,
        () -> OptimizerState.read(new DataInputStream(new ByteArrayInputStream(cut)), m));
    assertTrue(e.getMessage().contains("truncated") && e.getMessage().contains("at byte"), e.getMessage());
    assertTrue(e.getMessage().contains("head/kernel"), e.getMessage());
  }

  @Test
  void shouldRefuseAStateOfAnotherModel() throws IOException {
    byte[] saved = bytesOf(trainedState(manifest()));
    List<ParameterSpec> renamed = new ArrayList<>(manifest().specs());
    renamed.set(1, new ParameterSpec("encoder/block_0/mlp/dense_0/other", new int[] {1024}));
    IOException e = assertThrows(IOException.class, () -> OptimizerState.read(
        new DataInputStream(new ByteArrayInputStream(saved)), new ParameterManifest(renamed)));
    assertTrue(e.getMessage().contains("another model"), e.getMessage());
    byte[] garbage = saved.clone();
    garbage[0] = 'X';
    e = assertThrows(IOException.class,
        () -> OptimizerState.read(new DataInputStream(new ByteArrayInputStream(garbage)), manifest()));
    assertTrue(e.getMessage().contains("not an optimizer state"), e.getMessage());
  }

  /**
   * B/16 keeps 2.057 bytes per parameter: 2 of bf16 momentum, 0.031 of full second moment (mostly the patch
   * embedding kernel [16, 16, 3, 768], whose second-largest dimension 16 is below 32) and 0.027 of factored rows
   * and columns (mostly the [768, 12] columns of the attention kernels). Larger models approach 2: G/14 is 2.019.
   */
  @Test
  void shouldKeepAboutTwoBytesPerParameterForAVit() {
    ParameterManifest vit = VitLikeManifest.base16();
    OptimizerState state = OptimizerState.zeros(vit, 32);
    double perParam = (double) state.bytes() / vit.totalSize();
    assertEquals(2.0575, perParam, 0.0005, "state bytes per parameter");
    assertFalse(state.layout(vit.indexOf("encoder/block_0/mlp/dense_0/bias")).factored());
    assertTrue(state.layout(vit.indexOf("encoder/block_0/attention/out/kernel")).factored());
  }

  @Test
  void shouldCopyDeeply() {
    ParameterManifest m = manifest();
    OptimizerState state = trainedState(m);
    OptimizerState copy = state.copy();
    assertArrayEquals(state.sha256(), copy.sha256());
    copy.setMomentumBf16(0, 0, (short) (copy.momentumBf16(0, 0) + 1));
    assertFalse(Arrays.equals(state.sha256(), copy.sha256()));
  }
}
