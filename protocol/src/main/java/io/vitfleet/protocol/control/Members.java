package io.vitfleet.protocol.control;

import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/** Where members of a job are listed: every worker, shard and feeder registers its control reference here. */
public final class Members {
  /** The Receptionist key of job members; the coordinator subscribes to it, ops tools list the cluster with it. */
  public static final ServiceKey<ControlMessage> KEY = ServiceKey.create(ControlMessage.class, "vitfleet-member");

  private Members() {
  }
}
