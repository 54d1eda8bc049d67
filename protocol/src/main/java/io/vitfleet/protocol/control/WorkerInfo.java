package io.vitfleet.protocol.control;

/**
 * Worker -> coordinator on joining: what the planner needs to know of it.
 *
 * @param declaredMemoryBytes memory the worker offers for parameters, activations and optimizer-free state
 * @param measuredGflopsPerSecond the speed the worker measured on a probe of this model (0 = not measured yet)
 * @param dataEndpoint where its Aeron subscriptions listen, {@code host:port}
 */
public record WorkerInfo(String workerId, String host, long declaredMemoryBytes, double measuredGflopsPerSecond,
    String dataEndpoint) implements ControlMessage {
  public WorkerInfo {
    Checks.named("workerId", workerId);
    Checks.named("host", host);
    Checks.positive("declaredMemoryBytes", declaredMemoryBytes);
    if (!(measuredGflopsPerSecond >= 0)) {
      throw new IllegalArgumentException("measuredGflopsPerSecond must be >= 0, got " + measuredGflopsPerSecond);
    }
    Checks.named("dataEndpoint", dataEndpoint);
  }
}
