package io.vitfleet.paramstore.store;

/** A shard store that cannot start or cannot go on: the message names the file, the step and what to do. */
public final class ShardStoreException extends RuntimeException {
  public ShardStoreException(String message) {
    super(message);
  }

  public ShardStoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
