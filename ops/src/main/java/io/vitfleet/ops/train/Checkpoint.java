package io.vitfleet.ops.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vitfleet.ops.UserError;
import io.vitfleet.protocol.ParameterManifest;
import io.vitfleet.protocol.ParameterSpec;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * A checkpoint directory: the job, the parameters, the optimizer state and the step, enough to resume exactly.
 *
 * <pre>
 * DIR/LATEST                 name of the newest complete checkpoint (replaced atomically, written last)
 * DIR/step-000000500/job.conf        the job (HOCON), so a resumed run is the same run
 * DIR/step-000000500/params.f32      fp32 parameters, little-endian, manifest order
 * DIR/step-000000500/optimizer.bin   the optimizer state
 * DIR/step-000000500/meta.json       step, model, manifest, SHA-256 of each file
 * </pre>
 * A checkpoint is written into a temporary folder and renamed into place, then LATEST is replaced: a crash at any
 * instant leaves the previous checkpoint intact and LATEST pointing at a complete one.
 */
public final class Checkpoint {
  /** Complete checkpoints kept in a directory; older ones are deleted after a newer one is in place. */
  public static final int KEEP = 2;

  private static final ObjectMapper JSON = new ObjectMapper();

  /** What a loaded checkpoint holds. */
  public record Loaded(Path dir, long step, String jobText, String model, float[] params, Path optimizerFile) {
  }

  /** Writes the optimizer state. */
  @FunctionalInterface
  public interface StateWriter {
    void write(OutputStream out) throws IOException;
  }

  private Checkpoint() {
  }

  /** Writes checkpoint {@code step} into {@code root} and makes it the latest. */
  public static Path save(Path root, long step, String jobText, String model, ParameterManifest manifest,
                          float[] params, StateWriter optimizer) {
    try {
      Files.createDirectories(root);
      String name = String.format("step-%09d", step);
      Path tmp = root.resolve(name + ".tmp");
      deleteRecursively(tmp);
      Files.createDirectories(tmp);
      Files.writeString(tmp.resolve("job.conf"), jobText);
      writeFloats(tmp.resolve("params.f32"), params);
      try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp.resolve("optimizer.bin")),
          1 << 20)) {
        optimizer.write(out);
      }
      ObjectNode meta = JSON.createObjectNode();
      meta.put("step", step);
      meta.put("model", model);
      meta.put("parameters", manifest.totalSize());
      var names = meta.putArray("manifest");
      for (ParameterSpec s : manifest.specs()) {
        names.add(s.toString());
      }
      meta.put("params_sha256", sha256(tmp.resolve("params.f32")));
      meta.put("optimizer_sha256", sha256(tmp.resolve("optimizer.bin")));
      meta.put("job_sha256", sha256(tmp.resolve("job.conf")));
      Files.writeString(tmp.resolve("meta.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(meta));
      fsyncDir(tmp);
      Path dest = root.resolve(name);
      deleteRecursively(dest);
      Files.move(tmp, dest, StandardCopyOption.ATOMIC_MOVE);
      Path latestTmp = root.resolve("LATEST.tmp");
      Files.writeString(latestTmp, name + "\n");
      Files.move(latestTmp, root.resolve("LATEST"), StandardCopyOption.ATOMIC_MOVE,
          StandardCopyOption.REPLACE_EXISTING);
      fsyncDir(root);
      prune(root, name);
      return dest;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write checkpoint " + step + " into " + root, e);
    }
  }

  /** True when {@code root} holds at least one complete checkpoint. */
  public static boolean exists(Path root) {
    return Files.isRegularFile(root.resolve("LATEST"));
  }

  /** Loads the latest checkpoint of {@code root}, checking every file against its recorded hash. */
  public static Loaded load(Path root) {
    if (!Files.isDirectory(root)) {
      throw new UserError("checkpoint directory does not exist: " + root + "; pass the --checkpoint directory of a "
          + "training run");
    }
    if (!exists(root)) {
      throw new UserError("no checkpoint in " + root + " (no LATEST file); pass the --checkpoint directory of a "
          + "training run that wrote at least one checkpoint");
    }
    try {
      String name = Files.readString(root.resolve("LATEST")).trim();
      Path dir = root.resolve(name);
      JsonNode meta = JSON.readTree(Files.readString(dir.resolve("meta.json")));
      for (String f : new String[] {"params.f32", "optimizer.bin", "job.conf"}) {
        String key = f.substring(0, f.indexOf('.')) + "_sha256";
        if (!sha256(dir.resolve(f)).equals(meta.get(key).asText())) {
          throw new UserError("checkpoint file " + dir.resolve(f) + " does not match its recorded SHA-256; it is "
              + "damaged: restore it or start from another checkpoint");
        }
      }
      long parameters = meta.get("parameters").asLong();
      float[] params = readFloats(dir.resolve("params.f32"), parameters);
      return new Loaded(dir, meta.get("step").asLong(), Files.readString(dir.resolve("job.conf")),
          meta.get("model").asText(), params, dir.resolve("optimizer.bin"));
    } catch (IOException e) {
      throw new UserError("cannot read checkpoint in " + root + ": " + e.getMessage()
          + "; the directory is incomplete or damaged", e);
    }
  }

  /** SHA-256 of the little-endian bytes of {@code values}: the parameter hash of a run. */
  public static String hash(float[] values) {
    MessageDigest md = sha256();
    ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < values.length; ) {
      buf.clear();
      int n = Math.min(values.length - i, buf.capacity() / 4);
      buf.asFloatBuffer().put(values, i, n);
      md.update(buf.array(), 0, n * 4);
      i += n;
    }
    return HexFormat.of().formatHex(md.digest());
  }

  static void writeFloats(Path file, float[] values) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < values.length; ) {
        buf.clear();
        int n = Math.min(values.length - i, buf.capacity() / 4);
        buf.asFloatBuffer().put(values, i, n);
        buf.limit(n * 4);
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
        i += n;
      }
      ch.force(true);
    }
  }

  static float[] readFloats(Path file, long count) throws IOException {
    long size = Files.size(file);
    if (size != count * 4) {
      throw new UserError("checkpoint file " + file + " has " + size + " bytes, expected " + count * 4
          + " for " + count + " parameters; it is truncated or belongs to another model");
    }
    float[] out = new float[(int) count];
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
      int i = 0;
      while (i < out.length) {
        buf.clear();
        buf.limit((int) Math.min(buf.capacity(), (long) (out.length - i) * 4));
        while (buf.hasRemaining()) {
          if (ch.read(buf) < 0) {
            throw new UserError("checkpoint file " + file + " ended early");
          }
        }
        buf.flip();
        int n = buf.remaining() / 4;
        buf.asFloatBuffer().get(out, i, n);
        i += n;
      }
    }
    return out;
  }

  static String sha256(Path file) throws IOException {
    MessageDigest md = sha256();
    try (InputStream in = new DigestInputStream(Files.newInputStream(file), md)) {
      in.transferTo(OutputStream.nullOutputStream());
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  private static void prune(Path root, String newest) throws IOException {
    List<String> complete = new ArrayList<>();
    try (Stream<Path> s = Files.list(root)) {
      s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("step-") && !n.endsWith(".tmp"))
          .sorted().forEach(complete::add);
    }
    for (int i = 0; i < complete.size() - KEEP; i++) {
      if (!complete.get(i).equals(newest)) {
        deleteRecursively(root.resolve(complete.get(i)));
      }
    }
  }

  private static void fsyncDir(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException ignored) {
      // Some file systems cannot fsync a directory; the rename is still atomic.
    }
  }

  static void deleteRecursively(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      for (Path q : s.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
        Files.delete(q);
      }
    }
  }

  /** Removes every checkpoint of {@code root} (for a run restarted from step 0). */
  public static void clear(Path root) {
    try {
      if (!Files.isDirectory(root)) {
        return;
      }
      Files.deleteIfExists(root.resolve("LATEST"));
      try (Stream<Path> s = Files.list(root)) {
        for (Path p : s.filter(p -> p.getFileName().toString().startsWith("step-")).toList()) {
          deleteRecursively(p);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot clear checkpoints in " + root, e);
    }
  }
}
