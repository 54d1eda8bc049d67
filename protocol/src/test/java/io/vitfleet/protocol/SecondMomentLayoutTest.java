package io.vitfleet.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SecondMomentLayoutTest {

  private static SecondMomentLayout of(int... shape) {
    return SecondMomentLayout.of(shape, 32);
  }

  @Test
  void shouldKeepTheFullMomentOfVectorsAndScalars() {
    assertFalse(of(768).factored());
    assertFalse(of().factored());
  }

  @Test
  void shouldFactorOnlyWhenTheSecondLargestDimensionReachesTheThreshold() {
    assertFalse(of(31, 1000).factored());
    assertTrue(of(32, 1000).factored());
    assertFalse(of(1, 16, 40).factored(), "pos_embedding of the oracle: second largest 16");
    assertFalse(of(12, 64).factored(), "an attention bias [heads, headDim]: second largest 12");
    assertFalse(of(16, 16, 3, 768).factored(), "a patch embedding kernel: second largest 16");
    assertTrue(SecondMomentLayout.of(new int[] {2, 3}, 1).factored());
  }

  @Test
  void shouldPickTheTwoLargestAxesWithTiesGoingToTheLaterAxis() {
    SecondMomentLayout square = of(32, 32);
    assertEquals(1, square.d0());
    assertEquals(0, square.d1());
    SecondMomentLayout cube = of(64, 64, 64);
    assertEquals(2, cube.d0());
    assertEquals(1, cube.d1());
    SecondMomentLayout wide = of(768, 3072);
    assertEquals(1, wide.d0());
    assertEquals(0, wide.d1());
    SecondMomentLayout tall = of(3072, 768);
    assertEquals(0, tall.d0());
    assertEquals(1, tall.d1());
  }

  @Test
  void shouldShapeRowsAsTheTensorWithoutD0AndColumnsWithoutD1() {
    SecondMomentLayout query = of(40, 4, 36);
    assertEquals(0, query.d0());
    assertEquals(2, query.d1());
    assertArrayEquals(new int[] {4, 36}, query.rowShape());
    assertArrayEquals(new int[] {40, 4}, query.colShape());
    assertEquals(144, query.rowSize());
    assertEquals(160, query.colSize());
    SecondMomentLayout out = of(12, 64, 768);
    assertEquals(2, out.d0());
    assertEquals(1, out.d1());
    assertArrayEquals(new int[] {12, 64}, out.rowShape());
    assertArrayEquals(new int[] {12, 768}, out.colShape());
  }

  @Test
  void shouldSeeAFactoredTensorAsOuterPBetweenQInner() {
    SecondMomentLayout l = of(3, 40, 2, 36, 5);
    assertEquals(1, l.d0());
    assertEquals(3, l.d1());
    assertEquals(3, l.outer());
    assertEquals(40, l.p());
    assertEquals(2, l.between());
    assertEquals(36, l.q());
    assertEquals(5, l.inner());
    assertTrue(l.rowIsMeanOverP());
    assertFalse(of(3, 36, 2, 40, 5).rowIsMeanOverP());
  }
}
