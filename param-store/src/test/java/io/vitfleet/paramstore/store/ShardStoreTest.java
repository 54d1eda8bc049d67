package io.vitfleet.paramstore.store;

import static io.vitfleet.paramstore.store.StoreFixtures.MIN_DIM_TO_FACTOR;
import static io.vitfleet.paramstore.store.StoreFixtures.SMALL;
import static io.vitfleet.paramstore.store.StoreFixtures.mismatch;
import static io.vitfleet.paramstore.store.StoreFixtures.params;
import static io.vitfleet.paramstore.store.StoreFixtures.state;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitfleet.paramstore.OptimizerState;
import io.vitfleet.protocol.ParameterManifest;
import io.vitfleet.protocol.ParameterSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardStoreTest {
  /** Small chunks, so the little manifest spreads over many entries and every kind of entry is exercised. */
  private static final int CHUNK = 512;
  private static final long JOB = 0x5eed_cafeL;

  @TempDir
  Path dir;

  private Path file() {
    return dir.resolve("shard-0.cm");
  }

  private ShardStore open() {
    return ShardStore.open(file(), JOB, SMALL, CHUNK);
  }

  /** Commits steps 0..last, each f(step). */
  private static void run(ShardStore s, long last) {
    for (long t = s.committedStep() + 1; t <= last; t++) {
      s.stage(t, 1, params(SMALL, t), state(SMALL, t));
      s.commit(t);
    }
  }

  @Test
  void aNewStoreHasNoCommittedStepUntilInitialised() {
    try (ShardStore s = open()) {
      assertFalse(s.isInitialised());
      assertEquals(-1, s.committedStep());
      assertThrows(IllegalStateException.class, s::committedState);
      s.initialise(7, params(SMALL, 0), state(SMALL, 0));
      assertEquals(0, s.committedStep());
      assertEquals(7, s.committedPlanVersion());
      assertNull(mismatch(s, 0));
    }
    try (ShardStore s = open()) {
      assertEquals(0, s.committedStep());
      assertNull(mismatch(s, 0));
      assertEquals(0, s.openReport().entriesRebuilt());
      assertFalse(s.openReport().commitRecordsRewritten());
    }
  }

  @Test
  void committedStepsAlternateSlotsAndSurviveReopen() {
    try (ShardStore s = open()) {
      run(s, 0);
      int first = s.committedSlot();
      run(s, 1);
      assertEquals(1 - first, s.committedSlot());
      run(s, 5);
      assertNull(mismatch(s, 5));
    }
    try (ShardStore s = open()) {
      assertEquals(5, s.committedStep());
      assertNull(mismatch(s, 5));
      run(s, 6);
      assertNull(mismatch(s, 6));
    }
  }

  @Test
  void aStagedStepIsServedOnlyAfterCommit() {
    try (ShardStore s = open()) {
      run(s, 2);
      s.stage(3, 1, params(SMALL, 3), state(SMALL, 3));
      assertEquals(2, s.committedStep());
      assertNull(mismatch(s, 2));
    }
    try (ShardStore s = open()) {
      assertEquals(2, s.committedStep(), "a staged but uncommitted step is not committed after reopen");
      assertNull(mismatch(s, 2));
    }
  }

  @Test
  void aPreparedStepSurvivesReopenAndCanBeCommitted() {
    try (ShardStore s = open()) {
      run(s, 2);
      assertEquals(-1, s.preparedStep());
      s.stage(3, 4, params(SMALL, 3), state(SMALL, 3));
      assertEquals(3, s.preparedStep());
      assertEquals(4, s.preparedPlanVersion());
    }
    try (ShardStore s = open()) {
      assertEquals(2, s.committedStep());
      assertEquals(3, s.preparedStep(), "the staged step is still prepared after reopen");
      assertEquals(3, s.openReport().preparedStep());
      assertNull(mismatch(s, 2), "and the committed step is served until it is committed");
      s.commit(3);
      assertEquals(3, s.committedStep());
      assertEquals(4, s.committedPlanVersion());
      assertEquals(-1, s.preparedStep());
      assertNull(mismatch(s, 3));
    }
    try (ShardStore s = open()) {
      assertEquals(3, s.committedStep());
      assertEquals(-1, s.preparedStep(), "a committed step is no longer reported prepared");
      assertNull(mismatch(s, 3));
      run(s, 4);
      assertNull(mismatch(s, 4));
    }
  }

  @Test
  void anAbortedStepIsNotPreparedAfterReopen() {
    try (ShardStore s = open()) {
      run(s, 1);
      s.stage(2, 1, params(SMALL, 99), state(SMALL, 99));
      s.abort();
      assertEquals(-1, s.preparedStep());
    }
    try (ShardStore s = open()) {
      assertEquals(1, s.committedStep());
      assertEquals(-1, s.preparedStep());
      assertThrows(IllegalStateException.class, () -> s.commit(2));
    }
  }

  @Test
  void restagingAPreparedStepReplacesItsContent() {
    try (ShardStore s = open()) {
      run(s, 1);
      s.stage(2, 1, params(SMALL, 99), state(SMALL, 99));
    }
    try (ShardStore s = open()) {
      assertEquals(2, s.preparedStep());
      s.stage(2, 2, params(SMALL, 2), state(SMALL, 2));
    }
    try (ShardStore s = open()) {
      assertEquals(2, s.preparedStep());
      assertEquals(2, s.preparedPlanVersion());
      s.commit(2);
      assertNull(mismatch(s, 2), "the second staging's content is what commits");
    }
  }

  @Test
  void losingAnySingleEntryOfAPreparedStepKeepsTheCommittedStepAndAVerifiedOrNoPreparedStep() {
    List<Long> keys;
    try (ShardStore s = open()) {
      run(s, 3);
      s.stage(4, 1, params(SMALL, 4), state(SMALL, 4));
      keys = new ArrayList<>(new TreeSet<>(s.map().keySet()));
    }
    int stillPrepared = 0;
    for (long key : keys) {
      try (ShardStore s = open()) {
        assertEquals(4, s.preparedStep());
        s.map().remove(key);
      }
      try (ShardStore s = open()) {
        String where = "after losing key 0x" + Long.toHexString(key);
        assertEquals(3, s.committedStep(), where);
        assertNull(mismatch(s, 3), where);
        if (key == SlotLayout.preparedKey()) {
          assertEquals(-1, s.preparedStep(), where + ": without its record the step is not prepared");
          s.stage(4, 1, params(SMALL, 4), state(SMALL, 4));
        } else {
          assertEquals(4, s.preparedStep(), where + ": one lost entry is rebuilt from parity");
          stillPrepared++;
        }
      }
    }
    assertTrue(stillPrepared > 30, "many entries were lost one at a time: " + stillPrepared);
    try (ShardStore s = open()) {
      s.commit(4);
      assertNull(mismatch(s, 4));
    }
  }

  @Test
  void abortForgetsTheStagedStepAndTheStepCanBeStagedAgain() {
    try (ShardStore s = open()) {
      run(s, 1);
      s.stage(2, 1, params(SMALL, 99), state(SMALL, 99));
      s.abort();
      assertThrows(IllegalStateException.class, () -> s.commit(2));
      assertNull(mismatch(s, 1));
      run(s, 2);
      assertNull(mismatch(s, 2));
    }
  }

  @Test
  void stagingAnythingButTheNextStepIsRefused() {
    try (ShardStore s = open()) {
      run(s, 1);
      assertThrows(IllegalArgumentException.class, () -> s.stage(3, 1, params(SMALL, 3), state(SMALL, 3)));
      assertThrows(IllegalArgumentException.class, () -> s.stage(1, 1, params(SMALL, 1), state(SMALL, 1)));
    }
  }

  @Test
  void aShardReopenedUnderAnotherJobRefusesToStart() {
    try (ShardStore s = open()) {
      run(s, 1);
    }
    ShardStoreException e = assertThrows(ShardStoreException.class,
        () -> ShardStore.open(file(), JOB + 1, SMALL, CHUNK));
    assertTrue(e.getMessage().contains("belongs to job 0x" + Long.toHexString(JOB)), e.getMessage());
    assertTrue(e.getMessage().contains(file().toString()), e.getMessage());
    try (ShardStore s = open()) {
      assertEquals(1, s.committedStep(), "a refused open leaves the file as it was");
    }
  }

  @Test
  void aShardReopenedWithAnotherManifestRefusesToStart() {
    try (ShardStore s = open()) {
      run(s, 0);
    }
    ParameterManifest other = SMALL.filter(p -> !p.name().endsWith("bias"));
    ShardStoreException e = assertThrows(ShardStoreException.class,
        () -> ShardStore.open(file(), JOB, other, CHUNK));
    assertTrue(e.getMessage().contains("another set of tensors"), e.getMessage());
    ParameterManifest reshaped = new ParameterManifest(List.of(new ParameterSpec("block_0/mlp/kernel",
        new int[] {30, 40}), SMALL.get(1), SMALL.get(2)));
    assertThrows(ShardStoreException.class, () -> ShardStore.open(file(), JOB, reshaped, CHUNK));
  }

  @Test
  void aShardReopenedWithAnotherChunkSizeRefusesToStart() {
    try (ShardStore s = open()) {
      run(s, 0);
    }
    ShardStoreException e = assertThrows(ShardStoreException.class,
        () -> ShardStore.open(file(), JOB, SMALL, 2 * CHUNK));
    assertTrue(e.getMessage().contains("chunk size"), e.getMessage());
  }

  @Test
  void aShardFileOpenElsewhereIsRefused() {
    try (ShardStore held = open()) {
      assertFalse(held.isInitialised(), "a new file holds no step yet");
      ShardStoreException e = assertThrows(ShardStoreException.class, this::open);
      assertTrue(e.getMessage().contains("in use"), e.getMessage());
    }
  }

  @Test
  void losingAnySingleEntryAfterACommitNeverLosesTheCommittedStep() {
    List<Long> keys;
    try (ShardStore s = open()) {
      run(s, 3);
      keys = new ArrayList<>(new TreeSet<>(s.map().keySet()));
    }
    assertTrue(keys.size() > 30, "the layout spreads over many entries: " + keys.size());
    for (long key : keys) {
      try (ShardStore s = open()) {
        assertEquals(3, s.committedStep());
        s.map().remove(key);
      }
      try (ShardStore s = open()) {
        assertEquals(3, s.committedStep(), "after losing key 0x" + Long.toHexString(key));
        assertNull(mismatch(s, 3), "after losing key 0x" + Long.toHexString(key));
      }
    }
    try (ShardStore s = open()) {
      run(s, 4);
      assertNull(mismatch(s, 4), "the repaired store goes on training");
    }
  }

  @Test
  void losingAnySingleEntryWhileStagingNeverLosesTheCommittedStep() {
    List<Long> keys;
    try (ShardStore s = open()) {
      run(s, 3);
      keys = new ArrayList<>(new TreeSet<>(s.map().keySet()));
    }
    for (long key : keys) {
      try (ShardStore s = open()) {
        long committed = s.committedStep();
        int[] writes = {0};
        s.betweenWrites(() -> {
          if (++writes[0] == 10) {
            s.map().remove(key);
            throw new SimulatedCrash();
          }
        });
        assertThrows(SimulatedCrash.class,
            () -> s.stage(committed + 1, 1, params(SMALL, committed + 1), state(SMALL, committed + 1)));
      }
      try (ShardStore s = open()) {
        assertEquals(3, s.committedStep(), "after losing key 0x" + Long.toHexString(key));
        assertNull(mismatch(s, 3));
      }
    }
  }

  /**
   * A crash before every write of a stage and commit, losing the entry written just before or the one about to be
   * written (Chronicle may lose the entry being written, old value included): the store always reopens at the old
   * step or, once a commit record is complete, the new one, with exactly that step's content; and it reports the new
   * step prepared only when its prepared record is complete, with a slot that commits to exactly its content.
   */
  @Test
  void aCrashAtAnyWriteLosingTheEntryInFlightNeverTearsOrLosesAStep() {
    long stateBytes = StoreFixtures.stateBytes(state(SMALL, 0));
    SlotLayout layout = new SlotLayout(SMALL, CHUNK);
    int dataEntries = layout.paramChunks() + SlotLayout.stateChunks(stateBytes, CHUNK);
    int sawNew = 0;
    int sawOld = 0;
    int sawPrepared = 0;
    int writes = 1 + dataEntries + 1 + 1 + 2;
    for (int crashAt = 0; crashAt < writes - 1; crashAt++) {
      for (int lose = 0; lose < 2; lose++) {
        long before;
        List<Long> order = new ArrayList<>();
        try (ShardStore s = open()) {
          run(s, 2 + crashAt % 2);
          before = s.committedStep();
          int slot = 1 - s.committedSlot();
          order.add(SlotLayout.preparedKey()); // stage first removes the previous prepared record
          for (int i = 0; i < dataEntries; i++) {
            order.add(SlotLayout.dataKey(slot, i));
          }
          order.add(SlotLayout.parityKey(slot));
          order.add(SlotLayout.preparedKey());
          order.add(SlotLayout.commitKey(0));
          order.add(SlotLayout.commitKey(1));
          int[] calls = {0};
          long lost = order.get(crashAt + lose);
          int at = crashAt;
          s.betweenWrites(() -> {
            if (calls[0]++ == at) {
              s.map().remove(lost);
              throw new SimulatedCrash();
            }
          });
          assertThrows(SimulatedCrash.class, () -> {
            s.stage(before + 1, 1, params(SMALL, before + 1), state(SMALL, before + 1));
            s.commit(before + 1);
          });
        }
        try (ShardStore s = open()) {
          long got = s.committedStep();
          String where = "crash before write " + (crashAt + 1) + ", losing write " + (crashAt + lose);
          assertTrue(got == before || got == before + 1, where + ": step " + got + " after " + before);
          assertNull(mismatch(s, got), where);
          long prepared = s.preparedStep();
          // The prepared record is write (data entries + 2): whole once written and not the entry lost.
          boolean recordWhole = crashAt + lose > dataEntries + 2;
          if (got == before + 1) {
            sawNew++;
            assertEquals(-1, prepared, where + ": nothing beyond the committed step is prepared");
          } else {
            sawOld++;
            assertEquals(recordWhole ? before + 1 : -1, prepared, where + ": the prepared step");
          }
          if (prepared >= 0) {
            sawPrepared++;
            s.commit(prepared);
            assertNull(mismatch(s, prepared), where + ": the prepared step commits to exactly its content");
            got = prepared;
          }
          run(s, got + 1);
          assertNull(mismatch(s, got + 1), where + ": training goes on");
        }
      }
    }
    assertTrue(sawNew > 0 && sawOld > 0 && sawPrepared > 0, "every outcome was exercised: new " + sawNew + ", old "
        + sawOld + ", prepared " + sawPrepared);
  }

  @Test
  void aCorruptValueIsDetectedAndRebuiltOnReopen() {
    long key;
    try (ShardStore s = open()) {
      run(s, 2);
      key = SlotLayout.dataKey(s.committedSlot(), 5);
      byte[] v = s.map().get(key);
      v[EntryFrame.HEADER + 3] ^= 0x10;
      s.map().put(key, v);
      ShardStoreException e = assertThrows(ShardStoreException.class, () -> s.committedParams(0));
      assertTrue(e.getMessage().contains("CRC32C"), e.getMessage());
    }
    try (ShardStore s = open()) {
      assertEquals(2, s.committedStep());
      assertEquals(1, s.openReport().entriesRebuilt());
      assertNull(mismatch(s, 2));
    }
  }

  @Test
  void twoDamagedEntriesOfTheCommittedSlotAreRefusedNeverServed() {
    try (ShardStore s = open()) {
      run(s, 2);
      s.map().remove(SlotLayout.dataKey(s.committedSlot(), 1));
      s.map().remove(SlotLayout.dataKey(s.committedSlot(), 7));
    }
    ShardStoreException e = assertThrows(ShardStoreException.class, this::open);
    assertTrue(e.getMessage().contains("no committed step whose slot verifies"), e.getMessage());
  }

  @Test
  void largeTensorsAreCutIntoChunksThatReadBackExactly() {
    ParameterManifest m = StoreFixtures.manifest(3, 100, 333);
    try (ShardStore s = ShardStore.open(dir.resolve("big.cm"), JOB, m, 4096)) {
      s.initialise(1, params(m, 0), state(m, 0));
      s.stage(1, 1, params(m, 1), state(m, 1));
      s.commit(1);
      assertNull(mismatch(s, 1));
      OptimizerState st = s.committedState();
      assertEquals(MIN_DIM_TO_FACTOR, st.minDimToFactor());
    }
  }

  private static final class SimulatedCrash extends RuntimeException {
    SimulatedCrash() {
      super("simulated crash", null, false, false);
    }
  }
}
