package io.vitfleet.model;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The ViT family of "Scaling Vision Transformers" (Table 2) — the one place a variant name expands to its numbers.
 * The patch size is not part of a variant: {@code G/14} is variant {@code G} with patch 14 (see {@link ViTConfig}).
 *
 * @param name  short name as the paper writes it ({@code s}, {@code Ti}, {@code S}, {@code B}, {@code L}, {@code H},
 *              {@code g}, {@code G})
 * @param width hidden size of every token
 * @param depth number of encoder blocks
 * @param mlp   hidden size of each block's MLP
 * @param heads attention heads
 */
public record Variant(String name, int width, int depth, int mlp, int heads) {

  private static final Map<String, Variant> TABLE = new LinkedHashMap<>();

  static {
    for (Variant v : List.of(
        new Variant("s", 256, 6, 1024, 8),
        new Variant("Ti", 192, 12, 768, 3),
        new Variant("S", 384, 12, 1536, 6),
        new Variant("B", 768, 12, 3072, 12),
        new Variant("L", 1024, 24, 4096, 16),
        new Variant("H", 1280, 32, 5120, 16),
        new Variant("g", 1408, 40, 6144, 16),
        new Variant("G", 1664, 48, 8192, 16))) {
      TABLE.put(v.name, v);
    }
  }

  public Variant {
    if (width <= 0 || depth <= 0 || mlp <= 0 || heads <= 0) {
      throw new IllegalArgumentException("variant " + name + ": width, depth, mlp and heads must be positive");
    }
    if (width % heads != 0) {
      throw new IllegalArgumentException("variant " + name + ": width " + width + " is not divisible by "
          + heads + " heads");
    }
  }

  /** The named variant (case-sensitive: {@code s} and {@code S} differ, as do {@code g} and {@code G}). */
  public static Variant named(String name) {
    Variant v = TABLE.get(name);
    if (v == null) {
      throw new IllegalArgumentException("unknown variant '" + name + "'; known variants: "
          + String.join(", ", TABLE.keySet()) + " (with a patch size, e.g. Ti/16 or G/14)");
    }
    return v;
  }

  /** All variants of the table, smallest first. */
  public static List<Variant> all() {
    return List.copyOf(TABLE.values());
  }

  public int headDim() {
    return width / heads;
  }
}
