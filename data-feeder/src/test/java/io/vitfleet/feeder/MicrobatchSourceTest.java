package io.vitfleet.feeder;

import static io.vitfleet.feeder.IdxFileTest.assertContains;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.management.ThreadMXBean;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

class MicrobatchSourceTest {
  private final ImageDataset dataset = BatcherTest.tinyDataset();

  @Test
  void shouldFillAMicrobatchWithTheScheduledSamples() {
    SampleSchedule schedule = new SampleSchedule(6, 99, new BatchPlan(4, 2, 1));
    MicrobatchSource source = new MicrobatchSource(dataset, Normalization.minusOneToOne(), schedule);
    float[] images = new float[source.imageFloatsPerMicrobatch()];
    int[] labels = new int[source.labelsPerMicrobatch()];
    source.fill(3, 1, images, labels);
    for (int slot = 0; slot < 2; slot++) {
      int sample = (int) schedule.sample(3, 1, slot);
      assertEquals(dataset.label(sample), labels[slot]);
      for (int p = 0; p < 6; p++) {
        assertEquals(Normalization.minusOneToOne().apply(dataset.pixel(sample, p)), images[slot * 6 + p]);
      }
    }
  }

  @Test
  void shouldProduceTheSameStepBytesWhateverTheMicrobatchSizeAndGrouping() {
    int[][] microbatchAndGroups = {{12, 1}, {3, 1}, {3, 2}, {3, 4}, {2, 6}, {1, 3}};
    float[] expectedImages = null;
    int[] expectedLabels = null;
    for (int[] mg : microbatchAndGroups) {
      SampleSchedule schedule = new SampleSchedule(6, 4, new BatchPlan(12, mg[0], mg[1]));
      MicrobatchSource source = new MicrobatchSource(dataset, Normalization.minusOneToOne(), schedule);
      float[] stepImages = new float[12 * 6];
      int[] stepLabels = new int[12];
      float[] images = new float[source.imageFloatsPerMicrobatch()];
      int[] labels = new int[source.labelsPerMicrobatch()];
      BatchPlan plan = schedule.plan();
      for (int g = 0; g < plan.groups(); g++) {
        for (int k = plan.firstMicrobatch(g); k < plan.endMicrobatch(g); k++) {
          source.fill(5, k, images, labels);
          System.arraycopy(images, 0, stepImages, k * images.length, images.length);
          System.arraycopy(labels, 0, stepLabels, k * labels.length, labels.length);
        }
      }
      if (expectedImages == null) {
        expectedImages = stepImages;
        expectedLabels = stepLabels;
      } else {
        assertArrayEquals(expectedImages, stepImages, "b = " + mg[0] + ", G = " + mg[1]);
        assertArrayEquals(expectedLabels, stepLabels, "b = " + mg[0] + ", G = " + mg[1]);
      }
    }
  }

  @Test
  void shouldReportTheSampleIndicesOfAMicrobatch() {
    SampleSchedule schedule = new SampleSchedule(6, 2, new BatchPlan(4, 4, 1));
    MicrobatchSource source = new MicrobatchSource(dataset, Normalization.minusOneToOne(), schedule);
    long[] indices = new long[4];
    source.indices(1, 0, indices);
    for (int j = 0; j < 4; j++) {
      assertEquals(schedule.sampleAt(4 + j), indices[j]);
    }
  }

  @Test
  void shouldRejectAScheduleForADataSetOfAnotherSize() {
    SampleSchedule schedule = new SampleSchedule(7, 2, new BatchPlan(4, 4, 1));
    assertContains(assertThrows(IllegalArgumentException.class,
        () -> new MicrobatchSource(dataset, Normalization.minusOneToOne(), schedule)), "7 samples", "tiny has 6");
  }

  @Test
  void shouldNotAllocateWhileFillingMicrobatches() {
    ImageDataset big = new ImageDataset("zeros", new byte[1000 * 784], new byte[1000], 28, 28, 1, 10);
    SampleSchedule schedule = new SampleSchedule(1000, 8, new BatchPlan(64, 16, 2));
    MicrobatchSource source = new MicrobatchSource(big, Normalization.minusOneToOne(), schedule);
    float[] images = new float[source.imageFloatsPerMicrobatch()];
    int[] labels = new int[source.labelsPerMicrobatch()];
    ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
    long thread = Thread.currentThread().getId();
    for (int warm = 0; warm < 200; warm++) {
      source.fill(warm, warm % 4, images, labels);
    }
    threads.getThreadAllocatedBytes(thread);
    long before = threads.getThreadAllocatedBytes(thread);
    for (int step = 0; step < 500; step++) {
      for (int k = 0; k < 4; k++) {
        source.fill(step, k, images, labels);
      }
    }
    long allocated = threads.getThreadAllocatedBytes(thread) - before;
    // 2000 microbatches of 16 samples; a single allocation per sample would be hundreds of kilobytes.
    assertTrue(allocated < 4096, allocated + " bytes allocated while filling 2000 microbatches");
  }
}
