package io.vitfleet.protocol.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import io.vitfleet.protocol.control.ControlCodec.ControlCodecException;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class ControlCodecTest {
  private static final long JOB = 0x5EEDF00DL;
  private static final ActorTestKit KIT = ActorTestKit.create();
  private static final ActorRef<ControlMessage> REF = KIT.<ControlMessage>createTestProbe().ref();
  /** Resolves actor references like the Pekko serializer does; {@link Hello} carries one. */
  private final ControlCodec codec = new ControlCodec(ActorRefResolver.get(KIT.system()));

  @AfterAll
  static void stopKit() {
    KIT.shutdownTestKit();
  }

  static Plan twoByTwoPlan() {
    return new Plan(JOB, 4, 2, 2,
        List.of(new Plan.StageLayers(0, 0, 6), new Plan.StageLayers(1, 6, 12)),
        List.of(new Plan.WorkerAssignment("w-a", 0, 0), new Plan.WorkerAssignment("w-b", 0, 1),
            new Plan.WorkerAssignment("w-c", 1, 0), new Plan.WorkerAssignment("w-d", 1, 1)),
        List.of(0, 1, 0, 1, 2), 16,
        List.of(new Plan.ReplicaGroups(0, List.of(0, 1)), new Plan.ReplicaGroups(1, List.of(2, 3))));
  }

  /** One example of every message; the test below checks none is missing. */
  static List<ControlMessage> oneOfEach() {
    return List.of(
        new Begin(JOB, 7, 4),
        new GroupSumReady(JOB, 7, 4, 3, "w-c"),
        new NormPartial(JOB, 7, 4, 1, new int[] {3, 5}, new double[] {12.75, 0.5}),
        new GlobalNorm(JOB, 7, 4, Double.NaN),
        new Prepared(JOB, 8, 4, 2),
        new Commit(JOB, 8, 4),
        new Abort(JOB, 7, 4, "worker w-b lost (Aeron image unavailable)"),
        twoByTwoPlan(),
        new JobSpec(JOB, "Ti/4", "fashion-mnist", 256, 16, 4, 42L),
        new WorkerInfo("w-a", "10.0.0.5", 8L << 30, 123.5, "10.0.0.5:40123"),
        new Hello(JOB, "w-a", Hello.WORKER, new Endpoint("w-a", "vm/sim-0", "aeron:ipc",
            "aeron:udp?endpoint=127.0.0.1:21003|mtu=8192", 3001), REF,
            new WorkerInfo("w-a", "10.0.0.5", 8L << 30, 0, "aeron:ipc"), null),
        new Install(JOB, 7, twoByTwoPlan(), List.of(new Endpoint("shard-0", "aeron:ipc", 2000)),
            List.of(List.of(0, 1), List.of(2, 3, 4))),
        new Ready(JOB, 4, "shard-0"),
        new StageDone(JOB, 7, 4, "w-b", 0, 1, 0.75, 4, 0.125),
        new Committed(JOB, 8, 4, 1),
        new DataPlaneMetrics(JOB, "shard-1", 3, "{CRC_MISMATCH=3}", "vm/sim-1", Map.of("ipc", 12L, "udp", 40L),
            Map.of("worker-1", "udp", "worker-2", "ipc")));
  }

  @Test
  void everyControlMessageRoundTripsThroughCborToAnEqualRecord() {
    for (ControlMessage m : oneOfEach()) {
      byte[] bytes = codec.encode(m);
      ControlMessage back = codec.decode(bytes);
      assertEquals(m, back, () -> m.getClass().getSimpleName() + " did not round-trip");
      assertEquals(m.getClass(), back.getClass());
    }
  }

  @Test
  void theExamplesCoverEveryPermittedMessageAndEveryOneHasAWireName() {
    Set<Class<?>> leaves = permittedLeaves(ControlMessage.class);
    Set<Class<?>> examples = oneOfEach().stream().map(Object::getClass).collect(Collectors.toSet());
    assertEquals(leaves, examples);
    Set<Class<?>> named = Arrays.stream(ControlMessage.class.getAnnotation(JsonSubTypes.class).value())
        .map(JsonSubTypes.Type::value).collect(Collectors.toSet());
    assertEquals(leaves, named);
  }

  @Test
  void aHelloWithoutAnActorRefResolverCannotBeEncoded() {
    Hello hello = (Hello) oneOfEach().stream().filter(m -> m instanceof Hello).findFirst().orElseThrow();
    ControlCodecException e = assertThrows(ControlCodecException.class, () -> new ControlCodec().encode(hello));
    assertTrue(e.getMessage().contains("ActorRefResolver"), e.getMessage());
  }

  @Test
  void aStepMessageIsSmallOnTheWire() {
    assertTrue(codec.encode(new Begin(JOB, 7, 4)).length < 64, "a begin should fit in one cache line");
  }

  @Test
  void bytesThatAreNotAControlMessageFailWithAMessageThatSaysSo() {
    ControlCodecException e = assertThrows(ControlCodecException.class,
        () -> codec.decode(new byte[] {(byte) 0xA1, 0x61, 0x78, 0x01}));
    assertTrue(e.getMessage().startsWith("cannot decode a control message of 4 bytes"), e.getMessage());
  }

  @Test
  void aDecodedMessageThatBreaksARecordRuleIsRefusedWithTheRule() {
    byte[] bytes = codec.encode(new Begin(JOB, 7, 4));
    // CBOR stores the small positive int 7 as the single byte 0x07: make the step -8 (0x27) instead.
    int at = indexOf(bytes, (byte) 0x07);
    bytes[at] = 0x27;
    ControlCodecException e = assertThrows(ControlCodecException.class, () -> codec.decode(bytes));
    assertTrue(e.getMessage().contains("step must be >= 0, got -8"), e.getMessage());
  }

  @Test
  void aPlanWhoseStagesAreNotContiguousIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Plan(JOB, 1, 2, 1,
        List.of(new Plan.StageLayers(0, 0, 6), new Plan.StageLayers(1, 7, 12)),
        List.of(new Plan.WorkerAssignment("w-a", 0, 0), new Plan.WorkerAssignment("w-b", 0, 1)),
        List.of(0), 16, List.of(new Plan.ReplicaGroups(0, List.of(0)))));
    assertTrue(e.getMessage().contains("contiguous"), e.getMessage());
  }

  @Test
  void aPlanWithAnUnstaffedReplicaStageIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Plan(JOB, 1, 2, 1,
        List.of(new Plan.StageLayers(0, 0, 6), new Plan.StageLayers(1, 6, 12)),
        List.of(new Plan.WorkerAssignment("w-a", 0, 0)),
        List.of(0), 16, List.of(new Plan.ReplicaGroups(0, List.of(0)))));
    assertTrue(e.getMessage().contains("needs 2 workers"), e.getMessage());
  }

  @Test
  void aPlanKnowsWhichWorkerRunsEachReplicaStage() {
    assertEquals("w-c", twoByTwoPlan().workerOf(1, 0));
  }

  @Test
  void aJobWhoseMicrobatchesDoNotSplitIntoEqualGroupsIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> new JobSpec(JOB, "Ti/4", "d", 256, 16, 3, 1));
  }

  private static int indexOf(byte[] bytes, byte b) {
    for (int i = bytes.length - 1; i >= 0; i--) {
      if (bytes[i] == b) {
        return i;
      }
    }
    throw new AssertionError("byte " + b + " not found");
  }

  private static Set<Class<?>> permittedLeaves(Class<?> root) {
    Set<Class<?>> leaves = new HashSet<>();
    Deque<Class<?>> todo = new ArrayDeque<>(List.of(root));
    while (!todo.isEmpty()) {
      Class<?> c = todo.pop();
      if (c.isSealed()) {
        todo.addAll(Arrays.asList(c.getPermittedSubclasses()));
      } else {
        leaves.add(c);
      }
    }
    return leaves;
  }
}
