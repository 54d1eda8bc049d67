package io.vitfleet.ops;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes a command's result as JSON to the file of its {@code --json} flag. */
public final class JsonOutput {
  private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private JsonOutput() {
  }

  public static ObjectMapper mapper() {
    return MAPPER;
  }

  /** Writes {@code value} to {@code file} (atomically: a temp file then a rename), creating parent folders. */
  public static void write(Path file, Object value) {
    try {
      Path abs = file.toAbsolutePath();
      if (abs.getParent() != null) {
        Files.createDirectories(abs.getParent());
      }
      Path tmp = abs.resolveSibling(abs.getFileName() + ".tmp");
      MAPPER.writeValue(tmp.toFile(), value);
      Files.move(tmp, abs, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
          java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UserError("cannot write JSON to " + file + ": " + e.getMessage() + "; choose a writable path", e);
    }
  }
}
