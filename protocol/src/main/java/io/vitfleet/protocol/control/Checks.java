package io.vitfleet.protocol.control;

/** Argument checks shared by the message records; a message that fails one is refused when built or decoded. */
final class Checks {
  private Checks() {
  }

  static void stepAndPlan(long step, int planVersion) {
    if (step < 0) {
      throw new IllegalArgumentException("step must be >= 0, got " + step);
    }
    if (planVersion < 0) {
      throw new IllegalArgumentException("planVersion must be >= 0, got " + planVersion);
    }
  }

  static void nonNegative(String name, long value) {
    if (value < 0) {
      throw new IllegalArgumentException(name + " must be >= 0, got " + value);
    }
  }

  static void positive(String name, long value) {
    if (value < 1) {
      throw new IllegalArgumentException(name + " must be >= 1, got " + value);
    }
  }

  static void named(String name, String value) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(name + " must not be empty");
    }
  }
}
