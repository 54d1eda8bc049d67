package io.vitfleet.feeder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class TrainingBatchesTest {
  private static final long SEED = 1234;
  private static ImageDataset fashion;

  @BeforeAll
  static void load() {
    if (!Files.isDirectory(FashionMnist.DEFAULT_DIR)) {
      fail("Fashion-MNIST is not installed at " + FashionMnist.DEFAULT_DIR + "; " + FashionMnist.INSTALL_HINT);
    }
    fashion = FashionMnist.train();
  }

  /**
   * The one-process trainer's code before it moved here (LocalTrainer's fill + augment), kept as the reference every
   * producer of training microbatches must match bit for bit.
   */
  private static final class PreviousTrainerPath {
    private final MicrobatchSource source;
    private final FlipShiftAugmentation augmentation;
    private final BatchPlan plan;
    private final long trainSize;
    private final long seed;

    PreviousTrainerPath(ImageDataset train, Normalization normalization, long seed, BatchPlan plan,
                        FlipShiftAugmentation augmentation) {
      this.source = new MicrobatchSource(train, normalization, new SampleSchedule(train.size(), seed, plan));
      this.augmentation = augmentation;
      this.plan = plan;
      this.trainSize = train.size();
      this.seed = seed;
    }

    void fill(long t, int mb, float[] images, int[] labels) {
      source.fill(t, mb, images, labels);
      if (augmentation.isIdentity()) {
        return;
      }
      int perImage = images.length / plan.microbatch();
      for (int slot = 0; slot < plan.microbatch(); slot++) {
        long position = plan.position(t, mb, slot);
        long epoch = position / trainSize;
        long index = source.schedule().sampleAt(position);
        augmentation.apply(seed, epoch, index, images, slot * perImage);
      }
    }
  }

  private static FlipShiftAugmentation fashionAugmentation(int maxShift, boolean flip) {
    return new FlipShiftAugmentation(28, 28, 1, maxShift, flip, Normalization.minusOneToOne().apply(0));
  }

  private static int[] bits(float[] values) {
    int[] bits = new int[values.length];
    for (int i = 0; i < values.length; i++) {
      bits[i] = Float.floatToRawIntBits(values[i]);
    }
    return bits;
  }

  private static void assertSameAsPreviousTrainerPath(int maxShift, boolean flip, BatchPlan plan, long[] steps) {
    Normalization n = Normalization.minusOneToOne();
    TrainingBatches batches = TrainingBatches.of(fashion, n, SEED, plan, maxShift, flip);
    PreviousTrainerPath previous = new PreviousTrainerPath(fashion, n, SEED, plan, fashionAugmentation(maxShift, flip));
    float[] images = new float[batches.imageFloatsPerMicrobatch()];
    int[] labels = new int[batches.labelsPerMicrobatch()];
    float[] expectedImages = new float[images.length];
    int[] expectedLabels = new int[labels.length];
    for (long t : steps) {
      for (int k = 0; k < plan.microbatches(); k++) {
        batches.fill(t, k, images, labels);
        previous.fill(t, k, expectedImages, expectedLabels);
        assertArrayEquals(bits(expectedImages), bits(images), "images of step " + t + ", microbatch " + k);
        assertArrayEquals(expectedLabels, labels, "labels of step " + t + ", microbatch " + k);
      }
    }
  }

  @Test
  void shouldGiveTheTrainersPreviousBytesWithFlipsAndShiftsIncludingAStepAcrossAnEpochBoundary() {
    // B = 64: 60000 / 64 = 937.5 steps per epoch, so step 937 holds the end of epoch 0 and the start of epoch 1.
    assertSameAsPreviousTrainerPath(2, true, new BatchPlan(64, 16, 2), new long[] {0, 1, 937, 2000});
  }

  @Test
  void shouldGiveTheTrainersPreviousBytesWithoutAugmentation() {
    assertSameAsPreviousTrainerPath(0, false, new BatchPlan(32, 8, 2), new long[] {0, 5});
  }

  @Test
  void shouldChangeSomePixelsWhenAugmenting() {
    BatchPlan plan = new BatchPlan(32, 8, 2);
    Normalization n = Normalization.minusOneToOne();
    TrainingBatches plain = new TrainingBatches(fashion, n, SEED, plan, fashionAugmentation(0, false));
    TrainingBatches augmented = new TrainingBatches(fashion, n, SEED, plan, fashionAugmentation(2, true));
    float[] a = new float[plain.imageFloatsPerMicrobatch()];
    float[] b = new float[a.length];
    int[] labelsA = new int[plain.labelsPerMicrobatch()];
    int[] labelsB = new int[labelsA.length];
    plain.fill(3, 1, a, labelsA);
    augmented.fill(3, 1, b, labelsB);
    assertArrayEquals(labelsA, labelsB, "augmentation leaves the labels alone");
    assertFalse(Arrays.equals(a, b), "a flip or shift of 8 images should move some pixel");
  }

  @Test
  void shouldDescribeItsMicrobatchShapeFromTheDataSetAndThePlan() {
    ImageDataset tiny = BatcherTest.tinyDataset();
    TrainingBatches batches = new TrainingBatches(tiny, Normalization.unitRange(), 7, new BatchPlan(4, 2, 1),
        new FlipShiftAugmentation(2, 3, 1, 0, true, 0f));
    assertArrayEquals(new int[] {2, 2, 3, 1}, batches.imageShape());
    assertEquals(2 * 6, batches.imageFloatsPerMicrobatch());
    assertEquals(2, batches.labelsPerMicrobatch());
    assertEquals(7, batches.seed());
    assertEquals(new BatchPlan(4, 2, 1), batches.plan());
  }
}
