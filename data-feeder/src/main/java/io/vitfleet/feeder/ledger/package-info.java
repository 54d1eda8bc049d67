/**
 * Corrupt data: what makes a sample invalid, what the feeder delivers instead and where that is written down.
 * {@link io.vitfleet.feeder.ledger.ValidSampleReader} holds the rule (its class comment is the reference), {@link
 * io.vitfleet.feeder.ledger.ImageValidator} the injectable "does it decode" check, {@link
 * io.vitfleet.feeder.ledger.SampleLedger} the per-step record of every invalid sample with its file and offset.
 */
package io.vitfleet.feeder.ledger;
