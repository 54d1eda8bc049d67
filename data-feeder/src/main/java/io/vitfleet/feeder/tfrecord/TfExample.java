package io.vitfleet.feeder.tfrecord;

import com.google.protobuf.ByteString;
import io.vitfleet.feeder.source.SampleStatus;
import java.nio.ByteBuffer;
import org.tensorflow.proto.BytesList;
import org.tensorflow.proto.Example;
import org.tensorflow.proto.Feature;
import org.tensorflow.proto.Features;
import org.tensorflow.proto.Int64List;

/**
 * A {@code tf.train.Example} in the TFDS image-classification convention: feature {@code image/encoded} holds the
 * encoded image (one bytes value, JPEG or PNG) and feature {@code label} the class (one int64 value). Other features
 * are allowed and ignored.
 */
public final class TfExample {
  public static final String IMAGE_KEY = "image/encoded";
  public static final String LABEL_KEY = "label";

  /**
   * What {@link #decode} found: a label and image, or why there are none.
   *
   * @param status VALID, {@link SampleStatus#BAD_EXAMPLE} or {@link SampleStatus#MISSING_FEATURE}
   */
  public record Decoded(SampleStatus status, long label, byte[] image, String detail) {
    static Decoded invalid(SampleStatus status, String detail) {
      return new Decoded(status, -1, null, detail);
    }
  }

  private TfExample() {}

  /** The serialised Example of one image and its label. */
  public static byte[] encode(byte[] image, long label) {
    Features features = Features.newBuilder()
        .putFeature(IMAGE_KEY, Feature.newBuilder()
            .setBytesList(BytesList.newBuilder().addValue(ByteString.copyFrom(image))).build())
        .putFeature(LABEL_KEY, Feature.newBuilder()
            .setInt64List(Int64List.newBuilder().addValue(label)).build())
        .build();
    return Example.newBuilder().setFeatures(features).build().toByteArray();
  }

  /** Parses a serialised Example; never throws for bad bytes. */
  public static Decoded decode(ByteBuffer data) {
    Example example;
    try {
      example = Example.parseFrom(data);
    } catch (Exception e) {
      return Decoded.invalid(SampleStatus.BAD_EXAMPLE, "the record's data is not a tf.train.Example ("
          + e.getClass().getSimpleName() + ": " + e.getMessage() + ")");
    }
    Feature image = example.getFeatures().getFeatureMap().get(IMAGE_KEY);
    if (image == null || image.getBytesList().getValueCount() != 1) {
      return Decoded.invalid(SampleStatus.MISSING_FEATURE, "the Example has no '" + IMAGE_KEY
          + "' feature with exactly one bytes value");
    }
    Feature label = example.getFeatures().getFeatureMap().get(LABEL_KEY);
    if (label == null || label.getInt64List().getValueCount() != 1) {
      return Decoded.invalid(SampleStatus.MISSING_FEATURE, "the Example has no '" + LABEL_KEY
          + "' feature with exactly one int64 value");
    }
    return new Decoded(SampleStatus.VALID, label.getInt64List().getValue(0),
        image.getBytesList().getValue(0).toByteArray(), "");
  }
}
