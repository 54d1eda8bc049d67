package io.vitfleet.feeder.augment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;

class DecodePoolSettingsTest {

  @Test
  void shouldTakeThePoolSizeFromReferenceConfByDefault() {
    DecodePoolSettings s = DecodePoolSettings.from(ConfigFactory.empty());
    assertEquals(2, s.workers());
    assertEquals(2, s.intraOpThreads());
  }

  @Test
  void shouldLetAJobFileOverrideThePoolSize() {
    DecodePoolSettings s = DecodePoolSettings.from(ConfigFactory.parseString(
        "vitfleet.feeder.decode { workers = 5, intra-op-threads = 1 }"));
    assertEquals(5, s.workers());
    assertEquals(1, s.intraOpThreads());
  }

  @Test
  void shouldNameTheSettingOfABadPoolSize() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DecodePoolSettings.from(
        ConfigFactory.parseString("vitfleet.feeder.decode.workers = 0")));
    assertTrue(e.getMessage().contains("vitfleet.feeder.decode.workers"), e.getMessage());
    IllegalArgumentException typo = assertThrows(IllegalArgumentException.class, () -> DecodePoolSettings.from(
        ConfigFactory.parseString("vitfleet.feeder.decode.workers = many")));
    assertTrue(typo.getMessage().contains("workers"), typo.getMessage());
  }
}
