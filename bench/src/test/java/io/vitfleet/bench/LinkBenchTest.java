package io.vitfleet.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.vitfleet.ops.JsonOutput;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** A tiny run of {@code bench link}: every case is measured, the ratios are derived from them, nothing is dropped. */
class LinkBenchTest {
  private static final List<String> TRANSPORTS = List.of("memcpy", "two_thread_ring", "aeron_ipc_bare",
      "aeron_ipc", "tcp", "aeron_udp", "tcp_small_buffers");

  @Test
  void shouldMeasureEveryCaseOfASizeAndPrimeAeronLinksThroughTheirWholeLog(@TempDir Path tmp) throws Exception {
    Path json = tmp.resolve("link.json");
    int exit;
    PrintStream stdout = System.out;
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
    try {
      // Small terms and few bytes: this checks the bench's bookkeeping, not the machine's speed.
      exit = new CommandLine(new LinkBench()).execute("--sizes-mib", "1", "--trial-mib", "8", "--rounds", "1",
          "--ipc-term-length", "1048576", "--udp-term-length", "1048576", "--socket-buffer", "1048576",
          "--aeron-dir", tmp.resolve("aeron").toString(), "--json", json.toString());
    } finally {
      System.setOut(stdout);
    }
    assertEquals(0, exit, printed.toString(StandardCharsets.UTF_8));
    JsonNode out = JsonOutput.mapper().readTree(json.toFile());

    List<String> transports = new ArrayList<>();
    for (JsonNode r : out.get("results")) {
      transports.add(r.get("transport").asText());
      assertEquals(1 << 20, r.get("size_bytes").asInt());
      assertTrue(r.get("gbytes_per_second").asDouble() > 0, r.toString());
      if (!r.get("transport").asText().startsWith("tcp") && !r.get("transport").asText().equals("memcpy")) {
        // Three 1 MiB terms (or a ring as long), plus one tensor: every page of the fresh log is touched before timing
        // starts.
        assertEquals(4, r.get("priming_tensors").asInt(), r.toString());
      }
    }
    assertEquals(TRANSPORTS, transports);
    for (String ratio : List.of("ipc_vs_memcpy", "ring_vs_memcpy", "aeron_ipc_bare_vs_ring", "ipc_vs_aeron_ipc_bare",
        "udp_vs_tcp", "udp_vs_tcp_small_buffers")) {
      assertTrue(out.get(ratio).asDouble() > 0, ratio + " in " + out);
    }
    assertEquals(0, out.get("frames_dropped").asLong());
  }
}
