package io.vitfleet.feeder.ledger;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitfleet.feeder.source.ImageFormat;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class TfDecodeImageValidatorTest {
  private final ImageValidator validator = new TfDecodeImageValidator();

  @Test
  void shouldAcceptWhatTensorFlowDecodesAndRejectWhatItCannot() {
    assertNull(validator.problem(ImageFormat.PNG, ImageFixtures.encode("png", 9, 7)));
    assertNull(validator.problem(ImageFormat.JPEG, ImageFixtures.encode("jpeg", 9, 7)));
    byte[] png = ImageFixtures.encode("png", 9, 7);
    String problem = validator.problem(ImageFormat.PNG, Arrays.copyOf(png, 30));
    assertTrue(problem != null && problem.startsWith("TensorFlow cannot decode the image"), problem);
    problem = validator.problem(ImageFormat.UNKNOWN, "not an image at all".getBytes());
    assertTrue(problem != null && problem.startsWith("TensorFlow cannot decode the image"), problem);
  }
}
