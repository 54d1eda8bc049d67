package io.vitfleet.ops;

/**
 * A problem with what the user asked for (a flag, a file, a checkpoint): printed as one line naming the problem and
 * what to do, with a non-zero exit and no stack trace unless {@code --verbose}.
 */
public final class UserError extends RuntimeException {
  public UserError(String message) {
    super(message);
  }

  public UserError(String message, Throwable cause) {
    super(message, cause);
  }
}
