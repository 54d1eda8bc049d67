package io.vitfleet.protocol;

import java.util.Arrays;

/**
 * One trainable tensor of a model: its hierarchical name (e.g. {@code encoder/block_7/mlp/dense_0/kernel}) and its
 * shape. The parameter store, checkpoints and weight-decay rules all key on the name, so this is the one place a
 * parameter's identity is defined.
 */
public record ParameterSpec(String name, int[] shape) {

  public ParameterSpec {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("parameter name must not be empty");
    }
    shape = shape.clone();
    for (int d : shape) {
      if (d <= 0) {
        throw new IllegalArgumentException("parameter " + name + " has a non-positive dimension: "
            + Arrays.toString(shape));
      }
    }
  }

  /** Number of elements. */
  public long size() {
    long n = 1;
    for (int d : shape) {
      n *= d;
    }
    return n;
  }

  public int rank() {
    return shape.length;
  }

  @Override
  public int[] shape() {
    return shape.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ParameterSpec p && p.name.equals(name) && Arrays.equals(p.shape, shape);
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + Arrays.hashCode(shape);
  }

  @Override
  public String toString() {
    return name + Arrays.toString(shape);
  }
}
