package io.meshwire.agent.wireguard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The gateway's kernel settings, against a directory laid out like /proc/sys. */
class GatewaySysctlsTest {

  @TempDir Path sys;

  private Path sysctl(String path, String value) throws IOException {
    Path file = sys.resolve(path);
    Files.createDirectories(file.getParent());
    Files.writeString(file, value + "\n");
    return file;
  }

  @Test
  void forwardingOffIsTurnedOnWhenTheAgentMayWriteIt() throws IOException {
    Path forward = sysctl("net/ipv4/ip_forward", "0");
    Path forward6 = sysctl("net/ipv6/conf/all/forwarding", "0");
    assertEquals(List.of(), new GatewaySysctls(sys, true, "wg0", true, false).check());
    assertEquals("1", Files.readString(forward).strip());
    assertEquals("1", Files.readString(forward6).strip());
  }

  @Test
  void forwardingOffThatMayNotBeChangedIsAProblemNamingTheFix() throws IOException {
    Path forward = sysctl("net/ipv4/ip_forward", "0");
    List<String> problems = new GatewaySysctls(sys, false, "wg0", false, false).check();
    assertEquals(List.of("net.ipv4.ip_forward=0: workload traffic through the tunnels is dropped; the agent could not"
        + " change it (not allowed to change it): run sysctl -w net.ipv4.ip_forward=1 on the gateway"), problems);
    assertEquals("0", Files.readString(forward).strip());
  }

  @Test
  void strictReversePathFilteringOnTheInterfaceIsLoosenedOnlyWhenPeersAreRemapped() throws IOException {
    sysctl("net/ipv4/ip_forward", "1");
    sysctl("net/ipv4/conf/all/rp_filter", "1");
    Path own = sysctl("net/ipv4/conf/wg.0/rp_filter", "0");
    assertEquals(List.of(), new GatewaySysctls(sys, true, "wg.0", false, false).check());
    assertEquals("0", Files.readString(own).strip(), "no remapping: left alone");

    assertEquals(List.of(), new GatewaySysctls(sys, true, "wg.0", false, true).check());
    assertEquals("2", Files.readString(own).strip(), "loose beats the strict 'all'");
  }
}
