/**
 * The feeder as a member of the cluster (docs/cluster.md): {@link io.vitfleet.feeder.actor.FeederActor} takes the
 * coordinator's plans and step begins over Pekko and streams each step's microbatches — those of
 * {@link io.vitfleet.feeder.TrainingBatches}, the same bytes the one-process trainer uses — over the Aeron data plane
 * to the workers that own them.
 */
package io.vitfleet.feeder.actor;
