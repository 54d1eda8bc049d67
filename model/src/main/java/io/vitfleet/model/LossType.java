package io.vitfleet.model;

import java.util.Locale;

/** The classification loss of the last stage. */
public enum LossType {
  /** Softmax cross-entropy on one-hot labels: single-label data. */
  SOFTMAX,
  /** Sigmoid cross-entropy per class: multi-label data (big_vision then starts the head bias at -10). */
  SIGMOID;

  public static LossType parse(String s) {
    try {
      return valueOf(s.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown loss '" + s + "'; use softmax or sigmoid");
    }
  }

  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }
}
