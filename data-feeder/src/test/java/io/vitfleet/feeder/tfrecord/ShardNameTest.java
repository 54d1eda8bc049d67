package io.vitfleet.feeder.tfrecord;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class ShardNameTest {
  @Test
  void shouldFormatTheTfdsShardName() {
    assertEquals("fashion_mnist-train.tfrecord-00001-of-00004",
        new ShardName("fashion_mnist", "train", 1, 4).fileName());
  }

  @Test
  void shouldParseANameWithDashesInTheDatasetName() {
    ShardName name = ShardName.parse("my-data-test.tfrecord-00002-of-00003");
    assertEquals(new ShardName("my-data", "test", 2, 3), name);
  }

  @Test
  void shouldNotParseOtherFiles() {
    assertNull(ShardName.parse("fashion_mnist-train.tfrecord-00001-of-00004.index"));
    assertNull(ShardName.parse("vitfleet-dataset.json"));
    assertNull(ShardName.parse("x-train.tfrecord-00004-of-00004"));
  }

  @Test
  void shouldRejectASplitWithADash() {
    assertThrows(IllegalArgumentException.class, () -> new ShardName("a", "tr-ain", 0, 1));
  }
}
