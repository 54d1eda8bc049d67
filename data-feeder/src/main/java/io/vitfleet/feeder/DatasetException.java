package io.vitfleet.feeder;

import java.nio.file.Path;

/**
 * A data set file that is missing, unreadable or malformed. The message is one line naming the file, what is wrong
 * and what to do, so the command line prints it as is; it extends {@link IllegalArgumentException} because the file
 * is what the user pointed us at (the CLI treats both alike: one line, usage exit code).
 */
public final class DatasetException extends IllegalArgumentException {
  private final Path file;

  public DatasetException(Path file, String message) {
    super(message);
    this.file = file;
  }

  public DatasetException(Path file, String message, Throwable cause) {
    super(message, cause);
    this.file = file;
  }

  /** The file the problem is about. */
  public Path file() {
    return file;
  }
}
