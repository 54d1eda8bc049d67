/**
 * Where the feeder's samples come from: {@link io.vitfleet.feeder.source.SampleSource} is the one interface the
 * feeder streams from, whether the samples live in TFRecord shards ({@link io.vitfleet.feeder.tfrecord}) or are
 * generated from their index ({@link io.vitfleet.feeder.synthetic}). A read never throws for bad data: it answers a
 * {@link io.vitfleet.feeder.source.SampleRead} whose {@link io.vitfleet.feeder.source.SampleStatus} says whether the
 * sample is valid and, if not, why, with the file and offset; {@link io.vitfleet.feeder.ledger} decides what an
 * invalid sample becomes.
 */
package io.vitfleet.feeder.source;
