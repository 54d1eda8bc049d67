package io.vitfleet.paramstore;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Per-name multipliers of the decoupled weight decay: ordered (regex, multiplier) rules, the first rule whose regex
 * matches the whole parameter name wins, and a name no rule matches is not decayed. This is how the paper decays
 * the head 100x more than the body while leaving biases, norms, position embeddings and the MAP probe alone.
 */
public final class WeightDecayRules {

  /** One rule: parameters whose whole name matches {@code regex} decay at {@code multiplier * wd}. */
  public record Rule(String regex, double multiplier) {
    public Rule {
      if (regex == null || regex.isEmpty()) {
        throw new IllegalArgumentException("weight-decay rule regex must not be empty");
      }
      if (!Double.isFinite(multiplier) || multiplier < 0) {
        throw new IllegalArgumentException("weight-decay rule '" + regex + "' has multiplier " + multiplier
            + "; it must be finite and >= 0");
      }
    }
  }

  private static final WeightDecayRules PAPER = new WeightDecayRules(List.of(
      new Rule(".*head/kernel", 100.0),
      new Rule(".*/kernel", 1.0)));

  private final List<Rule> rules;
  private final Pattern[] patterns;

  public WeightDecayRules(List<Rule> rules) {
    this.rules = List.copyOf(rules);
    this.patterns = new Pattern[this.rules.size()];
    for (int i = 0; i < patterns.length; i++) {
      String regex = this.rules.get(i).regex();
      try {
        patterns[i] = Pattern.compile(regex);
      } catch (PatternSyntaxException e) {
        throw new IllegalArgumentException("weight-decay rule " + i + " has an invalid regex '" + regex + "': "
            + e.getDescription(), e);
      }
    }
  }

  /** big_vision's rules for the paper: head kernels ({@code .*head/kernel}) 100, other kernels 1, the rest 0. */
  public static WeightDecayRules paper() {
    return PAPER;
  }

  /** No rule: nothing is decayed. */
  public static WeightDecayRules none() {
    return new WeightDecayRules(List.of());
  }

  /** Rules from (regex, multiplier) pairs, in order (the shape a job file's {@code wd_rules} is read into). */
  public static WeightDecayRules of(List<? extends Map.Entry<String, ? extends Number>> pairs) {
    List<Rule> rules = new ArrayList<>(pairs.size());
    for (Map.Entry<String, ? extends Number> e : pairs) {
      rules.add(new Rule(e.getKey(), e.getValue().doubleValue()));
    }
    return new WeightDecayRules(rules);
  }

  /** The multiplier of the first rule matching the whole {@code name}, or 0 when none matches. */
  public double multiplier(String name) {
    for (int i = 0; i < patterns.length; i++) {
      if (patterns[i].matcher(name).matches()) {
        return rules.get(i).multiplier();
      }
    }
    return 0.0;
  }

  public List<Rule> rules() {
    return rules;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof WeightDecayRules w && w.rules.equals(rules);
  }

  @Override
  public int hashCode() {
    return rules.hashCode();
  }

  @Override
  public String toString() {
    return rules.toString();
  }
}
