package io.vitfleet.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitfleet.protocol.frame.DType;
import io.vitfleet.protocol.frame.FrameKind;
import io.vitfleet.protocol.link.DataPlane;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

class TensorMailboxTest {
  private static final Duration LONG = Duration.ofSeconds(30);

  private static DataPlane.Tensor tensor(FrameKind kind, int plan, long step, int index, int tensorId) {
    return new DataPlane.Tensor(kind, step, plan, index, 0, tensorId, DType.F32, new int[] {2},
        new float[] {step, index}, null);
  }

  @Test
  void aTensorThatArrivedBeforeTheTakeIsReturnedOnce() {
    TensorMailbox box = new TensorMailbox();
    box.acceptPlan(3);
    DataPlane.Tensor t = tensor(FrameKind.ACTIVATION, 3, 7, 2, 0);
    box.put(t);
    assertSame(t, box.take(3, FrameKind.ACTIVATION, 7, 2, 0, LONG));
    assertEquals(0, box.size());
  }

  @Test
  void tensorsAreTakenByKindStepIndexAndTensorIdWhateverTheirArrivalOrder() {
    TensorMailbox box = new TensorMailbox();
    box.acceptPlan(1);
    DataPlane.Tensor p5 = tensor(FrameKind.PARAMETERS, 1, 4, 0, 5);
    DataPlane.Tensor p2 = tensor(FrameKind.PARAMETERS, 1, 4, 0, 2);
    DataPlane.Tensor grad = tensor(FrameKind.ACTIVATION_GRAD, 1, 4, 0, 0);
    DataPlane.Tensor act = tensor(FrameKind.ACTIVATION, 1, 4, 0, 0);
    box.accept(p5);
    box.accept(grad);
    box.accept(act);
    box.accept(p2);
    assertSame(p2, box.take(1, FrameKind.PARAMETERS, 4, 0, 2, LONG));
    assertSame(act, box.take(1, FrameKind.ACTIVATION, 4, 0, 0, LONG));
    assertSame(p5, box.take(1, FrameKind.PARAMETERS, 4, 0, 5, LONG));
    assertSame(grad, box.take(1, FrameKind.ACTIVATION_GRAD, 4, 0, 0, LONG));
  }

  @Test
  void aWaitingTakerGetsTheTensorWhenItArrives() throws Exception {
    TensorMailbox box = new TensorMailbox();
    box.acceptPlan(1);
    CompletableFuture<DataPlane.Tensor> taken = CompletableFuture.supplyAsync(
        () -> box.take(1, FrameKind.IMAGES, 0, 3, 0, LONG));
    DataPlane.Tensor t = tensor(FrameKind.IMAGES, 1, 0, 3, 0);
    box.put(tensor(FrameKind.IMAGES, 1, 0, 2, 0));
    box.put(t);
    assertSame(t, taken.get());
  }

  @Test
  void tensorsOfAnotherPlanVersionAreDroppedAndCounted() {
    TensorMailbox box = new TensorMailbox();
    box.put(tensor(FrameKind.IMAGES, 0, 0, 0, 0));
    box.acceptPlan(2);
    box.put(tensor(FrameKind.IMAGES, 1, 0, 0, 0));
    box.put(tensor(FrameKind.IMAGES, 3, 0, 0, 0));
    assertEquals(0, box.size());
    assertEquals(3, box.dropped());
  }

  @Test
  void acceptingANewPlanDropsWhatWasKeptForTheOldOne() {
    TensorMailbox box = new TensorMailbox();
    box.acceptPlan(1);
    box.put(tensor(FrameKind.LABELS, 1, 0, 0, 0));
    box.acceptPlan(2);
    assertEquals(0, box.size());
    assertEquals(2, box.planVersion());
  }

  @Test
  void aTakeThatWaitsPastItsTimeoutFailsSayingWhatDidNotArrive() {
    TensorMailbox box = new TensorMailbox();
    box.acceptPlan(4);
    TensorMailbox.ReceiveTimeoutException e = assertThrows(TensorMailbox.ReceiveTimeoutException.class,
        () -> box.take(4, FrameKind.ACTIVATION_GRAD, 9, 6, 0, Duration.ofMillis(20)));
    assertTrue(e.getMessage().contains("ACTIVATION_GRAD of step 9 microbatch 6 (plan 4)"), e.getMessage());
  }

  @Test
  void cancellingWakesAWaitingTakerWithACancellation() throws Exception {
    TensorMailbox box = new TensorMailbox();
    box.acceptPlan(1);
    CountDownLatch started = new CountDownLatch(1);
    CompletableFuture<DataPlane.Tensor> taken = CompletableFuture.supplyAsync(() -> {
      started.countDown();
      return box.take(1, FrameKind.ACTIVATION, 0, 0, 0, LONG);
    });
    started.await();
    box.cancel();
    ExecutionException e = assertThrows(ExecutionException.class, taken::get);
    assertTrue(e.getCause() instanceof CancellationException, e.getCause().toString());
  }

  @Test
  void afterACancelTakesFailAndArrivalsAreDroppedUntilTheNextPlanIsAccepted() {
    TensorMailbox box = new TensorMailbox();
    box.acceptPlan(1);
    box.put(tensor(FrameKind.ACTIVATION, 1, 0, 0, 0));
    box.cancel();
    box.put(tensor(FrameKind.ACTIVATION, 1, 0, 1, 0));
    assertEquals(0, box.size());
    assertThrows(CancellationException.class, () -> box.take(1, FrameKind.ACTIVATION, 0, 0, 0, LONG));
    box.acceptPlan(2);
    DataPlane.Tensor t = tensor(FrameKind.ACTIVATION, 2, 0, 0, 0);
    box.put(t);
    assertSame(t, box.take(2, FrameKind.ACTIVATION, 0, 0, 0, LONG));
  }

  @Test
  void aTakeForAPlanThatIsNoLongerInstalledIsCancelled() {
    TensorMailbox box = new TensorMailbox();
    box.acceptPlan(5);
    assertThrows(CancellationException.class, () -> box.take(4, FrameKind.IMAGES, 0, 0, 0, LONG));
  }

  @Test
  void leftoversOfEarlierStepsCanBeDiscarded() {
    TensorMailbox box = new TensorMailbox();
    box.acceptPlan(1);
    box.put(tensor(FrameKind.PARAMETERS, 1, 3, 0, 1));
    box.put(tensor(FrameKind.PARAMETERS, 1, 4, 0, 1));
    box.put(tensor(FrameKind.PARAMETERS, 1, 5, 0, 1));
    box.discardStepsBefore(5);
    assertEquals(1, box.size());
  }
}
