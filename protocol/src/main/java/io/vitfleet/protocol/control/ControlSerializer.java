package io.vitfleet.protocol.control;

import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.JSerializer;

/**
 * The Pekko serializer of every {@link ControlMessage}: {@link ControlCodec}'s CBOR, so the control plane's wire
 * format is defined once. Bound in this module's {@code reference.conf}; Java serialisation stays off. The CBOR
 * carries the message's type name, so no Pekko manifest is needed.
 */
public final class ControlSerializer extends JSerializer {
  /** Pekko's id of this serializer; ids below 100 are Pekko's own. Part of the wire format: never change it. */
  public static final int IDENTIFIER = 740_411;

  private final ControlCodec codec;

  public ControlSerializer(ExtendedActorSystem system) {
    this.codec = new ControlCodec(ActorRefResolver.get(Adapter.toTyped(system)));
  }

  @Override
  public int identifier() {
    return IDENTIFIER;
  }

  @Override
  public boolean includeManifest() {
    return false;
  }

  @Override
  public byte[] toBinary(Object o) {
    return codec.encode((ControlMessage) o);
  }

  @Override
  public Object fromBinaryJava(byte[] bytes, Class<?> manifest) {
    return codec.decode(bytes);
  }
}
