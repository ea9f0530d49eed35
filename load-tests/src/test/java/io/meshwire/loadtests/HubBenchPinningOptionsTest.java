package io.meshwire.loadtests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.meshwire.loadtests.process.CpuSet;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code --pin-hub} / {@code --pin-load} as an operator types them, checked before anything starts. */
class HubBenchPinningOptionsTest {

  private static HubBenchConfig parse(String... args) {
    HubBenchCommand command = new HubBenchCommand();
    new CommandLine(command).parseArgs(args);
    return command.config();
  }

  @Test
  void aRunIsUnpinnedUnlessAsked() {
    HubBenchConfig config = parse("--agents", "100");

    assertNull(config.pinHub());
    assertNull(config.pinLoad());
  }

  @Test
  void pinsTheHubAndTheLoadToSeparateCpus() {
    assumeTrue(CpuSet.online().cardinality() >= 2, "needs two CPUs");
    String hub = Integer.toString(CpuSet.online().length() - 1);
    String load = Integer.toString(CpuSet.online().nextSetBit(0));

    HubBenchConfig config = parse("--pin-hub", hub, "--pin-load", load);

    assertEquals(hub, config.pinHub().list());
    assertEquals(load, config.pinLoad().list());
  }

  @Test
  void overlappingSetsAreRefusedNamingTheSharedCpu() {
    String cpu = Integer.toString(CpuSet.online().nextSetBit(0));

    String message = assertThrows(IllegalArgumentException.class,
        () -> parse("--pin-hub", cpu, "--pin-load", cpu)).getMessage();

    assertEquals("--pin-load: " + cpu + " shares CPU " + cpu + " with --pin-hub " + cpu
        + " (a pinned run keeps the hub and the load generator apart)", message);
  }

  @Test
  void aCpuThatIsNotOnlineIsRefusedNamingTheOption() {
    String message = assertThrows(IllegalArgumentException.class, () -> parse("--pin-hub", "4095")).getMessage();

    assertTrue(message.startsWith("--pin-hub: CPU 4095 of \"4095\" is not online (online: "), message);
  }
}
