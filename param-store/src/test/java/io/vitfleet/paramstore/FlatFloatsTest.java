package io.vitfleet.paramstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vitfleet.protocol.ParameterManifest;
import io.vitfleet.protocol.ParameterSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

class FlatFloatsTest {
  private static final ParameterManifest M = new ParameterManifest(List.of(
      new ParameterSpec("a/kernel", new int[] {4, 3}), new ParameterSpec("a/bias", new int[] {3})));

  @Test
  void shouldViewAManifestOrderArrayAtTheManifestOffsets() {
    float[] flat = new float[15];
    FlatFloats f = FlatFloats.wrap(M, flat);
    f.set(1, 2, 7f);
    assertEquals(7f, flat[14]);
    assertSame(flat, f.array(0));
    assertEquals(12, f.offset(1));
  }

  @Test
  void shouldPackWholeTensorsIntoSharedChunks() {
    FlatFloats f = FlatFloats.allocate(M);
    assertSame(f.array(0), f.array(1));
    assertEquals(0, f.offset(0));
    assertEquals(12, f.offset(1));
  }

  @Test
  void shouldRejectArraysOfTheWrongSize() {
    assertThrows(IllegalArgumentException.class, () -> FlatFloats.wrap(M, new float[14]));
    assertThrows(IllegalArgumentException.class, () -> FlatFloats.ofTensors(M, new float[][] {new float[12]}));
    assertThrows(IllegalArgumentException.class,
        () -> FlatFloats.ofTensors(M, new float[][] {new float[12], new float[4]}));
  }
}
