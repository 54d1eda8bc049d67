package io.vitfleet.feeder.tfrecord;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitfleet.feeder.DatasetException;
import io.vitfleet.feeder.source.ImageFormat;
import io.vitfleet.feeder.source.ImageShape;
import io.vitfleet.feeder.source.SampleRead;
import io.vitfleet.feeder.source.SampleStatus;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.BytesList;
import org.tensorflow.proto.Example;
import org.tensorflow.proto.Feature;
import org.tensorflow.proto.Features;

class TfRecordDatasetTest {
  @TempDir
  Path dir;

  private final List<String> warnings = new ArrayList<>();

  private TfRecordDataset open(String split) {
    return TfRecordDataset.open(dir, split, warnings::add);
  }

  private static void assertSameSample(long index, SampleRead read) {
    SampleRead original = TfRecordFixtures.SOURCE.read(index);
    assertEquals(SampleStatus.VALID, read.status(), read.toString());
    assertEquals(index, read.index());
    assertEquals(original.label(), read.label());
    assertArrayEquals(original.image(), read.image());
    assertEquals(ImageFormat.PNG, read.format());
  }

  @Test
  void shouldReadEverySampleOfEveryShardAsWritten() {
    DatasetMetadata.Split split = TfRecordFixtures.write(dir, "train", 50, 4);
    assertEquals(List.of(13L, 12L, 13L, 12L), split.shards().stream().map(DatasetMetadata.Shard::records).toList());
    try (TfRecordDataset data = open("train")) {
      assertEquals(50, data.size());
      assertEquals(TfRecordFixtures.CLASSES, data.classes());
      assertArrayEquals(new long[] {13, 12, 13, 12}, data.shardSizes());
      assertEquals(new ImageShape(8, 8, 1), data.imageShape());
      assertEquals("class3", data.classNames().get(3));
      for (long i = 0; i < 50; i++) {
        assertSameSample(i, data.read(i));
      }
      SampleRead first = data.read(13);
      assertEquals(TfRecordFixtures.shard(dir, "train", 1, 4).toString(), first.file());
      assertEquals(0, first.offset());
    }
    assertEquals(List.of(), warnings);
  }

  @Test
  void shouldMapGlobalIndicesToShardsAtTheBoundaries() {
    TfRecordFixtures.write(dir, "train", 50, 4);
    try (TfRecordDataset data = open("train")) {
      assertEquals(0, data.shardOf(0));
      assertEquals(0, data.shardOf(12));
      assertEquals(1, data.shardOf(13));
      assertEquals(3, data.shardOf(49));
      assertEquals(38, data.shardStart(3));
      assertThrows(IndexOutOfBoundsException.class, () -> data.read(50));
    }
  }

  @Test
  void shouldKeepSplitsApartInOneFolder() {
    TfRecordFixtures.write(dir, "train", 30, 2);
    TfRecordFixtures.write(dir, "test", 10, 1);
    assertEquals(Set.of("test", "train"), TfRecordDataset.splits(dir));
    try (TfRecordDataset test = open("test")) {
      assertEquals(10, test.size());
    }
    DatasetException e = assertThrows(DatasetException.class, () -> open(null));
    assertTrue(e.getMessage().contains("holds splits [test, train]; choose one"), e.getMessage());
    e = assertThrows(DatasetException.class, () -> open("validation"));
    assertTrue(e.getMessage().contains("has no split 'validation'"), e.getMessage());
  }

  @Test
  void shouldReplaceAnEarlierImportOfTheSameSplit() throws IOException {
    TfRecordFixtures.write(dir, "train", 30, 3);
    TfRecordFixtures.write(dir, "train", 20, 2);
    assertTrue(Files.notExists(TfRecordFixtures.shard(dir, "train", 2, 3)), "old shards are deleted");
    try (TfRecordDataset data = open("train")) {
      assertEquals(20, data.size());
    }
  }

  @Test
  void shouldLeaveNoMetadataPointingAtAReimportThatFailedHalfWay() throws IOException {
    TfRecordFixtures.write(dir, "train", 30, 3);
    TfRecordFixtures.write(dir, "test", 10, 1);
    try (ShardedDatasetWriter writer = new ShardedDatasetWriter(dir, "toy", "train", 2, 20,
        TfRecordFixtures.classNames())) {
      writer.add(TfRecordFixtures.SOURCE.read(0).image(), 1); // then the import dies
    }
    assertEquals(Set.of("test"), TfRecordDataset.splits(dir));
    DatasetException e = assertThrows(DatasetException.class, () -> open("train"));
    assertTrue(e.getMessage().contains("has no split 'train'"), e.getMessage());
  }

  @Test
  void shouldReadAMissingShardsSamplesAsInvalidWithoutChangingTheSize() throws IOException {
    TfRecordFixtures.write(dir, "train", 40, 4);
    Path missing = TfRecordFixtures.shard(dir, "train", 2, 4);
    Files.delete(missing);
    try (TfRecordDataset data = open("train")) {
      assertEquals(40, data.size());
      SampleRead read = data.read(25);
      assertEquals(SampleStatus.MISSING_SHARD, read.status());
      assertEquals(missing.toString(), read.file());
      assertSameSample(19, data.read(19));
      assertSameSample(30, data.read(30));
    }
    assertTrue(warnings.get(0).contains("shard " + missing + " is missing: its 10 samples (indices 20..29)"),
        warnings.toString());
  }

  @Test
  void shouldReadAShardThatIsNotTfRecordAsInvalidWithAWarning() throws IOException {
    TfRecordFixtures.write(dir, "train", 40, 4);
    Path broken = TfRecordFixtures.shard(dir, "train", 1, 4);
    Files.writeString(broken, "not a tfrecord at all, but long enough");
    try (TfRecordDataset data = open("train")) {
      SampleRead read = data.read(12);
      assertEquals(SampleStatus.BAD_RECORD_HEADER, read.status());
      assertTrue(read.detail().contains("is not a TFRecord file"), read.detail());
      assertSameSample(20, data.read(20));
      assertThrows(DatasetException.class, () -> data.shard(1));
    }
  }

  @Test
  void shouldReportALabelOutOfRangeAMissingFeatureAndAnUnparseableExample() throws IOException {
    TfRecordFixtures.write(dir, "train", 3, 1);
    Path file = TfRecordFixtures.shard(dir, "train", 0, 1);
    byte[] image = TfRecordFixtures.SOURCE.read(0).image();
    Example noLabel = Example.newBuilder().setFeatures(Features.newBuilder().putFeature(TfExample.IMAGE_KEY,
        Feature.newBuilder().setBytesList(BytesList.newBuilder()
            .addValue(com.google.protobuf.ByteString.copyFrom(image))).build())).build();
    try (TfRecordWriter writer = TfRecordWriter.create(file)) {
      writer.write(TfExample.encode(image, 12));
      writer.write(noLabel.toByteArray());
      writer.write(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f});
    }
    try (TfRecordDataset data = open("train")) {
      assertEquals(SampleStatus.LABEL_OUT_OF_RANGE, data.read(0).status());
      assertTrue(data.read(0).detail().contains("label 12 is outside 0..9"), data.read(0).detail());
      assertEquals(SampleStatus.MISSING_FEATURE, data.read(1).status());
      assertTrue(data.read(1).detail().contains("'label'"), data.read(1).detail());
      assertEquals(SampleStatus.BAD_EXAMPLE, data.read(2).status());
    }
  }

  @Test
  void shouldFindShardsByNameAndCountClassesWhenThereIsNoMetadata() throws IOException {
    TfRecordFixtures.write(dir, "train", 30, 3);
    Files.delete(dir.resolve(DatasetMetadata.FILE_NAME));
    try (TfRecordDataset data = open(null)) {
      assertEquals("train", data.split());
      assertEquals(30, data.size());
      int maxLabel = 0;
      for (int i = 0; i < 30; i++) {
        maxLabel = Math.max(maxLabel, TfRecordFixtures.SOURCE.label(i));
      }
      assertEquals(maxLabel + 1, data.classes());
      assertNull(data.imageShape());
      assertSameSample(29, data.read(29));
    }
    assertTrue(warnings.get(0).contains("has no " + DatasetMetadata.FILE_NAME), warnings.toString());
  }

  @Test
  void shouldRefuseAnIncompleteSetOfShardsWithoutMetadata() throws IOException {
    TfRecordFixtures.write(dir, "train", 30, 3);
    Files.delete(dir.resolve(DatasetMetadata.FILE_NAME));
    Files.delete(TfRecordFixtures.shard(dir, "train", 1, 3));
    DatasetException e = assertThrows(DatasetException.class, () -> open("train"));
    assertTrue(e.getMessage().contains("expected toy-train.tfrecord-00001-of-00003"), e.getMessage());
  }

  @Test
  void shouldNameTheFolderWhenItDoesNotExistIsEmptyOrHoldsNoShards() throws IOException {
    Path absent = dir.resolve("absent");
    DatasetException e = assertThrows(DatasetException.class, () -> TfRecordDataset.open(absent, null));
    assertEquals("data set folder not found: " + absent + "; check the path", e.getMessage());
    e = assertThrows(DatasetException.class, () -> open(null));
    assertTrue(e.getMessage().startsWith(dir + " is empty"), e.getMessage());
    Files.writeString(dir.resolve("README"), "hello");
    e = assertThrows(DatasetException.class, () -> open(null));
    assertTrue(e.getMessage().startsWith(dir + " holds no TFRecord shards"), e.getMessage());
  }

  @Test
  void shouldRejectMalformedMetadataNamingTheFile() throws IOException {
    TfRecordFixtures.write(dir, "train", 10, 1);
    Path metadata = dir.resolve(DatasetMetadata.FILE_NAME);
    Files.writeString(metadata, Files.readString(metadata).replace("\"examples\" : 10", "\"examples\" : 11"),
        StandardCharsets.UTF_8);
    DatasetException e = assertThrows(DatasetException.class, () -> open("train"));
    assertTrue(e.getMessage().startsWith(metadata + " is not valid data set metadata (split train says 11 examples"),
        e.getMessage());
  }

  @Test
  void shouldRejectMetadataNamingAFileOutsideTheFolder() throws IOException {
    TfRecordFixtures.write(dir, "train", 10, 1);
    Path metadata = dir.resolve(DatasetMetadata.FILE_NAME);
    Files.writeString(metadata, Files.readString(metadata).replace("toy-train.tfrecord", "../toy-train.tfrecord"));
    DatasetException e = assertThrows(DatasetException.class, () -> open("train"));
    assertTrue(e.getMessage().contains("must be a plain file name"), e.getMessage());
  }
}
