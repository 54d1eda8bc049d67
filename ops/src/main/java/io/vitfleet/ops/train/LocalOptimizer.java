package io.vitfleet.ops.train;

import com.typesafe.config.Config;
import io.vitfleet.ops.UserError;
import io.vitfleet.paramstore.Adafactor;
import io.vitfleet.paramstore.OptimizerConfig;
import io.vitfleet.paramstore.OptimizerState;
import io.vitfleet.paramstore.Schedule;
import io.vitfleet.paramstore.WeightDecayRules;
import io.vitfleet.protocol.ParameterManifest;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * The parameter store's optimizer configured from a job, over the whole model's flat buffer: what one process needs
 * of the param-store (the cluster splits the same update across shards).
 */
public final class LocalOptimizer {
  private final Adafactor adafactor;
  private OptimizerState state;

  LocalOptimizer(JobConfig job, ParameterManifest manifest) {
    OptimizerConfig config = config(job);
    this.adafactor = new Adafactor(config, manifest);
    this.state = adafactor.newState();
  }

  /** The optimizer settings of a job (its {@code optimizer} block), the schedule's total being the job's steps. */
  public static OptimizerConfig config(JobConfig job) {
    Config o = job.optimizer();
    try {
      Config s = o.getConfig("schedule");
      Schedule schedule = Schedule.of(s.getString("type"), job.steps(), s.getLong("warmup"), s.getLong("cooldown"),
          s.getLong("timescale"));
      if (s.hasPath("cooldown_start")) {
        schedule = schedule.cooledDownFrom(s.getLong("cooldown_start"), s.getLong("cooldown"));
      }
      return OptimizerConfig.builder(schedule)
          .lr(o.getDouble("lr"))
          .wd(o.getDouble("wd"))
          .rules(WeightDecayRules.of(job.weightDecayRules()))
          .clipNorm(o.getDouble("clip_norm"))
          .momentum(o.getDouble("momentum"))
          .beta2Cap(o.getDouble("beta2_cap"))
          .decayRate(o.getDouble("decay_rate"))
          .minDimToFactor(o.getInt("min_dim_to_factor"))
          .build();
    } catch (IllegalArgumentException e) {
      throw new UserError("bad optimizer setting: " + e.getMessage(), e);
    }
  }

  /** One optimizer step {@code count} over the whole model: clip by the global norm, then the chain. */
  double update(float[] params, float[] grads, long count) {
    return adafactor.step(params, grads, state, count);
  }

  void write(DataOutput out) throws IOException {
    state.write(out);
  }

  void read(DataInput in) throws IOException {
    state = OptimizerState.read(in, adafactor.manifest());
  }
}
