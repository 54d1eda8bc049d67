package io.vitfleet.model;

import java.util.Locale;

/** How the encoder output is pooled into one vector ("pre_logits"). */
public enum HeadType {
  /** Multihead attention pooling with a learned probe: the paper's choice and the default. */
  MAP,
  /** Global average pooling over tokens. */
  GAP,
  /** A learned [class] token prepended before the encoder; its output is the pooled vector. */
  TOKEN;

  public static HeadType parse(String s) {
    try {
      return valueOf(s.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown head type '" + s + "'; use map, gap or token");
    }
  }

  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }
}
