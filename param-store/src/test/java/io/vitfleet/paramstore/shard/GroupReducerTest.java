package io.vitfleet.paramstore.shard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class GroupReducerTest {
  private static final int GROUPS = 5;
  private static final int[] SIZES = {300, 7};

  /** Group sums whose magnitudes differ by orders, so that adding them in another order changes low bits. */
  private static float[][][] groupSums(long seed) {
    Random r = new Random(seed);
    float[][][] sums = new float[SIZES.length][GROUPS][];
    for (int t = 0; t < SIZES.length; t++) {
      for (int g = 0; g < GROUPS; g++) {
        sums[t][g] = new float[SIZES[t]];
        for (int i = 0; i < SIZES[t]; i++) {
          sums[t][g][i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(7) - 3));
        }
      }
    }
    return sums;
  }

  /** The one-process trainer's reduction: a copy of group 0, then each later group added in group order. */
  private static float[] inGroupOrder(float[][] groups) {
    float[] total = groups[0].clone();
    for (int g = 1; g < groups.length; g++) {
      for (int i = 0; i < total.length; i++) {
        total[i] += groups[g][i];
      }
    }
    return total;
  }

  private static void assertSameBits(float[] expected, float[] actual, String what) {
    assertEquals(expected.length, actual.length, what);
    for (int i = 0; i < expected.length; i++) {
      assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]), what + ", element " + i);
    }
  }

  @Test
  void groupSumsAreAddedInGroupOrderWhateverOrderTheyArriveIn() {
    float[][][] sums = groupSums(42);
    List<int[]> arrivals = new ArrayList<>();
    permutations(new int[GROUPS], 0, new boolean[GROUPS], arrivals);
    assertEquals(120, arrivals.size());
    for (int[] order : arrivals) {
      GroupReducer reducer = new GroupReducer(SIZES, GROUPS);
      for (int g : order) {
        for (int t = 0; t < SIZES.length; t++) {
          assertNull(reducer.add(t, g, sums[t][g].clone()));
        }
      }
      assertTrue(reducer.complete());
      float[][] totals = reducer.totals();
      for (int t = 0; t < SIZES.length; t++) {
        assertSameBits(inGroupOrder(sums[t]), totals[t], "tensor " + t + ", arrival order " + Arrays.toString(order));
      }
    }
  }

  @Test
  void theTestDataWouldShowAnotherOrderOfAddition() {
    float[][] groups = groupSums(42)[0];
    float[][] reversed = groups.clone();
    Collections.reverse(Arrays.asList(reversed));
    assertFalse(Arrays.equals(inGroupOrder(groups), inGroupOrder(reversed)),
        "summing the same groups in reverse order gives other bits, so the order test above can fail");
  }

  @Test
  void aStepIsCompleteOnlyOnceEveryGroupOfEveryTensorIsIn() {
    float[][][] sums = groupSums(7);
    GroupReducer reducer = new GroupReducer(SIZES, GROUPS);
    assertEquals(SIZES.length * GROUPS, reducer.missing());
    for (int g = GROUPS - 1; g >= 0; g--) {
      assertNull(reducer.add(0, g, sums[0][g]));
    }
    for (int g = 0; g < GROUPS - 1; g++) {
      assertNull(reducer.add(1, g, sums[1][g]));
    }
    assertFalse(reducer.complete());
    assertEquals(1, reducer.missing());
    assertThrows(IllegalStateException.class, reducer::totals);
    assertNull(reducer.add(1, GROUPS - 1, sums[1][GROUPS - 1]));
    assertTrue(reducer.complete());
  }

  @Test
  void duplicateMisshapenAndUnknownGroupSumsAreRefusedAndChangeNothing() {
    float[][][] sums = groupSums(9);
    GroupReducer reducer = new GroupReducer(SIZES, GROUPS);
    assertNull(reducer.add(0, 1, sums[0][1]));
    assertNotNull(reducer.add(0, 1, new float[SIZES[0]]), "a second copy of a group");
    assertNotNull(reducer.add(0, 2, new float[SIZES[0] - 1]), "the wrong number of floats");
    assertNotNull(reducer.add(0, GROUPS, new float[SIZES[0]]), "a group the step does not have");
    assertNotNull(reducer.add(2, 0, new float[5]), "a tensor the shard does not own");
    assertEquals(SIZES.length * GROUPS - 1, reducer.missing());
    for (int t = 0; t < SIZES.length; t++) {
      for (int g = 0; g < GROUPS; g++) {
        if (t != 0 || g != 1) {
          assertNull(reducer.add(t, g, sums[t][g]));
        }
      }
    }
    assertArrayEquals(inGroupOrder(groupSums(9)[0]), reducer.totals()[0]);
  }

  @Test
  void aShardWithoutTensorsIsCompleteAtOnce() {
    assertTrue(new GroupReducer(new int[0], GROUPS).complete());
  }

  private static void permutations(int[] current, int depth, boolean[] used, List<int[]> out) {
    if (depth == current.length) {
      out.add(current.clone());
      return;
    }
    for (int g = 0; g < current.length; g++) {
      if (!used[g]) {
        used[g] = true;
        current[depth] = g;
        permutations(current, depth + 1, used, out);
        used[g] = false;
      }
    }
  }
}
