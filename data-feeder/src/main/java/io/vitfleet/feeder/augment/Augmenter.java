package io.vitfleet.feeder.augment;

import java.util.Objects;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.exceptions.TFInvalidArgumentException;
import org.tensorflow.ndarray.NdArrays;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.image.DecodeAndCropJpeg;
import org.tensorflow.op.image.DecodePng;
import org.tensorflow.op.image.ResizeBilinear;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.GraphOptions;
import org.tensorflow.proto.RewriterConfig;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TString;
import org.tensorflow.types.TUint8;

/**
 * Decodes and augments one image at a time with TensorFlow ops, in its own graph and session: JPEG through
 * {@code DecodeAndCropJpeg} (which decodes only the crop window's rows, as big_vision's
 * {@code decode_jpeg_and_inception_crop}), PNG through {@code DecodePng} and a slice; then an optional left-right
 * flip, x / 127.5 - 1, and a bilinear resize to S x S ({@code tf.image.resize} semantics: half-pixel centres, no
 * antialiasing). The graph has the four fetches (JPEG or PNG, flipped or not) and a run computes only the one
 * fetched, so no control flow is needed.
 *
 * <p>The crop window and flip come from Java ({@link CropWindow}), so the output is a pure function of the encoded
 * bytes and the key. JPEG uses the integer-accurate IDCT (libjpeg's default, as {@code djpeg}), not the
 * platform-dependent fast one, so every host decodes the same pixels.
 *
 * <p>Not for concurrent use (calls are serialised): {@link DecodePool} gives each of its workers its own.
 */
public final class Augmenter implements AutoCloseable {
  private final AugmentSpec spec;
  private final Graph graph;
  private final Session session;
  private final Placeholder<TString> encoded;
  private final Placeholder<TInt32> jpegWindow;
  private final Placeholder<TInt32> pngBegin;
  private final Placeholder<TInt32> pngSize;
  private final Output<TFloat32> jpeg;
  private final Output<TFloat32> jpegFlipped;
  private final Output<TFloat32> png;
  private final Output<TFloat32> pngFlipped;

  /**
   * @param intraOpThreads TensorFlow's intra-op threads. The intra-op pool is per process and sized by the first
   *     session of the process, so pass the process-wide setting (the same as every other session's), not a
   *     per-augmenter choice
   */
  public Augmenter(AugmentSpec spec, int intraOpThreads) {
    this.spec = Objects.requireNonNull(spec, "spec");
    if (intraOpThreads < 1) {
      throw new IllegalArgumentException("TensorFlow intra-op threads must be at least 1, not " + intraOpThreads);
    }
    this.graph = new Graph();
    boolean ok = false;
    try {
      Ops tf = Ops.create(graph);
      long channels = spec.channels();
      encoded = tf.withName("encoded").placeholder(TString.class, Placeholder.shape(Shape.scalar()));
      jpegWindow = tf.withName("jpeg_window").placeholder(TInt32.class, Placeholder.shape(Shape.of(4)));
      pngBegin = tf.withName("png_begin").placeholder(TInt32.class, Placeholder.shape(Shape.of(3)));
      pngSize = tf.withName("png_size").placeholder(TInt32.class, Placeholder.shape(Shape.of(3)));
      Operand<TUint8> jpegCrop = tf.image.decodeAndCropJpeg(encoded, jpegWindow, DecodeAndCropJpeg.channels(channels),
          DecodeAndCropJpeg.dctMethod("INTEGER_ACCURATE"));
      Operand<TUint8> pngCrop = tf.slice(tf.image.decodePng(encoded, new DecodePng.Options[] {
          DecodePng.channels(channels)}), pngBegin, pngSize);
      // Flipping the u8 crop before the resize costs a fraction of flipping the float output and gives the mirror
      // image (half-pixel centres sample mirrored positions with mirrored weights) up to float rounding in the last
      // bits; a sample's bytes are still fixed by its key.
      Operand<TInt32> widthAxis = tf.constant(new int[] {1});
      jpeg = tf.withName("jpeg").identity(resizeAndNormalise(tf, jpegCrop)).asOutput();
      jpegFlipped = tf.withName("jpeg_flipped").identity(resizeAndNormalise(tf, tf.reverse(jpegCrop, widthAxis)))
          .asOutput();
      png = tf.withName("png").identity(resizeAndNormalise(tf, pngCrop)).asOutput();
      pngFlipped = tf.withName("png_flipped").identity(resizeAndNormalise(tf, tf.reverse(pngCrop, widthAxis)))
          .asOutput();
      session = new Session(graph, sessionConfig(intraOpThreads));
      ok = true;
    } finally {
      if (!ok) {
        graph.close();
      }
    }
  }

  /**
   * x / 127.5 - 1 on the crop, then the resize: the resize is a weighted mean, so normalising first gives the same
   * image (up to rounding), and on 224-pixel sources it measured about 15% cheaper than resize-then-normalise:
   * TensorFlow's bilinear resize runs faster on floats than on bytes, and a crop has fewer pixels than the output.
   */
  private Operand<TFloat32> resizeAndNormalise(Ops tf, Operand<TUint8> crop) {
    Operand<TFloat32> normalised = tf.math.sub(tf.math.div(tf.dtypes.cast(crop, TFloat32.class),
        tf.constant(127.5f)), tf.constant(1f));
    return tf.image.resizeBilinear(tf.expandDims(normalised, tf.constant(0)),
        tf.constant(new int[] {spec.size(), spec.size()}), ResizeBilinear.halfPixelCenters(true));
  }

  /**
   * Session options: the op kernels run in the calling thread (a negative inter-op setting), so a pool of N
   * augmenters uses N threads, not N plus TensorFlow's; Grappler off, as for the model's graphs, so the graph runs as
   * built.
   */
  static ConfigProto sessionConfig(int intraOpThreads) {
    return ConfigProto.newBuilder()
        .setIntraOpParallelismThreads(intraOpThreads)
        .setInterOpParallelismThreads(-1)
        .setGraphOptions(GraphOptions.newBuilder()
            .setRewriteOptions(RewriterConfig.newBuilder().setDisableMetaOptimizer(true)))
        .build();
  }

  public AugmentSpec spec() {
    return spec;
  }

  /**
   * Decodes {@code encodedImage}, draws its crop and flip from {@code key}, and writes the S x S x C result (HWC,
   * floats in [-1, 1]) to {@code out[offset ..]}.
   *
   * @return the window and flip used
   * @throws ImageFormatException if the bytes are not a decodable JPEG or PNG
   */
  public CropWindow augment(byte[] encodedImage, long key, float[] out, int offset) {
    ImageHeader header = ImageHeader.read(encodedImage);
    CropWindow window = CropWindow.sample(spec, key, header.height(), header.width());
    apply(encodedImage, header, window, out, offset);
    return window;
  }

  /**
   * As {@link #augment} with a given window and flip (which must lie inside the image).
   *
   * @throws ImageFormatException if the bytes are not a decodable JPEG or PNG
   */
  public synchronized void apply(byte[] encodedImage, ImageHeader header, CropWindow window, float[] out,
                                 int offset) {
    if (window.top() + window.height() > header.height() || window.left() + window.width() > header.width()) {
      throw new IllegalArgumentException("crop window " + window + " is outside the " + header.height() + "x"
          + header.width() + " image");
    }
    Objects.checkFromIndexSize(offset, spec.floatsPerImage(), out.length);
    try (TString bytes = TString.tensorOfBytes(NdArrays.scalarOfObject(encodedImage))) {
      Session.Runner run = session.runner().feed(encoded, bytes);
      Tensor[] fed;
      if (header.format() == ImageHeader.Format.JPEG) {
        fed = new Tensor[] {TInt32.vectorOf(window.top(), window.left(), window.height(), window.width())};
        run.feed(jpegWindow, fed[0]).fetch(window.flip() ? jpegFlipped : jpeg);
      } else {
        fed = new Tensor[] {TInt32.vectorOf(window.top(), window.left(), 0),
            TInt32.vectorOf(window.height(), window.width(), spec.channels())};
        run.feed(pngBegin, fed[0]).feed(pngSize, fed[1]).fetch(window.flip() ? pngFlipped : png);
      }
      try (Result result = run.run()) {
        result.get(0).asRawTensor().data().asFloats().read(out, offset, spec.floatsPerImage());
      } finally {
        for (Tensor t : fed) {
          t.close();
        }
      }
    } catch (TFInvalidArgumentException e) {
      throw new ImageFormatException("TensorFlow cannot decode this " + header.format() + ": " + firstLine(e), e);
    }
  }

  private static String firstLine(Exception e) {
    String m = String.valueOf(e.getMessage()).strip();
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }

  @Override
  public synchronized void close() {
    session.close();
    graph.close();
  }
}
