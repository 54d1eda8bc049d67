package io.vitfleet.protocol;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The ordered list of a model's parameters and where each lies in one flat float buffer (concatenated in manifest
 * order, each tensor row-major). The parameter store and the optimizer see only this: names and shapes, no
 * TensorFlow. The order is part of the model's definition: gradients, checkpoints and hashes follow it.
 */
public final class ParameterManifest {
  private final List<ParameterSpec> specs;
  private final long[] offsets;
  private final Map<String, Integer> indexByName;
  private final long totalSize;

  public ParameterManifest(List<ParameterSpec> specs) {
    this.specs = List.copyOf(specs);
    this.offsets = new long[specs.size()];
    this.indexByName = new HashMap<>();
    long offset = 0;
    for (int i = 0; i < specs.size(); i++) {
      ParameterSpec spec = specs.get(i);
      if (indexByName.put(spec.name(), i) != null) {
        throw new IllegalArgumentException("parameter name appears twice in the manifest: " + spec.name());
      }
      offsets[i] = offset;
      offset += spec.size();
    }
    this.totalSize = offset;
  }

  public List<ParameterSpec> specs() {
    return Collections.unmodifiableList(specs);
  }

  public int count() {
    return specs.size();
  }

  public ParameterSpec get(int index) {
    return specs.get(index);
  }

  /** Index of the named parameter, or -1. */
  public int indexOf(String name) {
    Integer i = indexByName.get(name);
    return i == null ? -1 : i;
  }

  public ParameterSpec get(String name) {
    int i = indexOf(name);
    if (i < 0) {
      throw new IllegalArgumentException("no parameter named " + name + " in this manifest");
    }
    return specs.get(i);
  }

  /** Offset of parameter {@code index} in the flat buffer, in elements. */
  public long offset(int index) {
    return offsets[index];
  }

  /** Total number of elements (the length of the flat buffer). */
  public long totalSize() {
    return totalSize;
  }

  /** The sub-manifest of the parameters that pass the filter, in the same order. */
  public ParameterManifest filter(Predicate<ParameterSpec> keep) {
    List<ParameterSpec> kept = new ArrayList<>();
    for (ParameterSpec s : specs) {
      if (keep.test(s)) {
        kept.add(s);
      }
    }
    return new ParameterManifest(kept);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ParameterManifest m && m.specs.equals(specs);
  }

  @Override
  public int hashCode() {
    return specs.hashCode();
  }

  @Override
  public String toString() {
    return "ParameterManifest[" + specs.size() + " tensors, " + totalSize + " elements]";
  }
}
