/**
 * The parameter store's optimizer: the paper's memory-efficient Adafactor (spec/vit.md, "Optimizer" and
 * "Learning-rate schedules"), knowing parameters only by a {@link io.vitfleet.protocol.ParameterManifest}.
 *
 * <p>Where things are:
 * <ul>
 *   <li>{@link io.vitfleet.paramstore.Adafactor}: one step over a manifest (global norm, then the update);</li>
 *   <li>{@link io.vitfleet.paramstore.OptimizerConfig}, {@link io.vitfleet.paramstore.Schedule},
 *       {@link io.vitfleet.paramstore.WeightDecayRules}: its settings;</li>
 *   <li>{@link io.vitfleet.paramstore.OptimizerState}: bf16 momentum and second moments, with byte-exact save and
 *       restore; {@link io.vitfleet.protocol.SecondMomentLayout}: which tensors are factored, and how;</li>
 *   <li>{@link io.vitfleet.paramstore.FlatFloats}: parameters and gradients of any size as Java arrays;</li>
 *   <li>the links of the chain, each testable alone: {@code GlobalNormClip} -> {@code FactoredSecondMoment} /
 *       {@code UnfactoredSecondMoment} -> {@code Bf16Momentum} -> {@code ScheduledStep}, fused per element by
 *       {@code FusedUpdate}; {@code PairwiseSum} keeps numpy's summation order.</li>
 * </ul>
 */
package io.vitfleet.paramstore;
