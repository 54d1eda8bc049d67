package io.vitfleet.feeder.ledger;

import io.vitfleet.feeder.source.ImageFormat;
import org.tensorflow.EagerSession;
import org.tensorflow.ndarray.NdArrays;
import org.tensorflow.op.Ops;
import org.tensorflow.op.image.DecodeImage;
import org.tensorflow.types.TString;
import org.tensorflow.types.TUint8;

/**
 * Judges an image by decoding it with TensorFlow's {@code DecodeImage} (the decoder the feeder's augment path uses),
 * in a short-lived eager session per call: exact, at the cost of a full decode (and of loading TensorFlow's native
 * library on first use). Use it after {@link ImageValidator#structural()} so cheap rejections come first:
 * {@code ImageValidator.structural().andThen(new TfDecodeImageValidator())}.
 */
public final class TfDecodeImageValidator implements ImageValidator {
  @Override
  public String problem(ImageFormat format, byte[] image) {
    if (format == ImageFormat.RAW) {
      return null;
    }
    try (EagerSession session = EagerSession.create();
        TString bytes = TString.tensorOfBytes(NdArrays.scalarOfObject(image))) {
      Ops tf = Ops.create(session);
      DecodeImage<TUint8> decoded = tf.image.decodeImage(tf.constantOf(bytes), TUint8.class,
          DecodeImage.channels(0L), DecodeImage.expandAnimations(false));
      try (TUint8 pixels = decoded.asTensor()) {
        return pixels.shape().numDimensions() == 3 && pixels.shape().size() > 0 ? null
            : "TensorFlow decoded the image to an empty shape " + pixels.shape();
      }
    } catch (RuntimeException e) {
      String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      int newline = message.indexOf('\n');
      return "TensorFlow cannot decode the image (" + (newline < 0 ? message : message.substring(0, newline)) + ")";
    }
  }
}
