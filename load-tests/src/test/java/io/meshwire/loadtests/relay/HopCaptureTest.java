package io.meshwire.loadtests.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The per-hop analysis of {@code bench path --hops} on a hand-written capture of one relayed ping. */
class HopCaptureTest {

  // Gateway a 198.18.0.1 (bridge socket 40001), relay 198.18.0.3:443, gateway b 198.18.0.2 (bridge 40002).
  private static final String A = String.join("\n",
      "tcpdump: listening on any, link-type LINUX_SLL2 (Linux cooked v2), snapshot length 262144 bytes",
      "100.000000 lo    Out IP 127.0.0.1.51820 > 127.0.0.1.40001: UDP, length 128",
      "100.000000 lo    In  IP 127.0.0.1.51820 > 127.0.0.1.40001: UDP, length 128",
      "100.000100 eth0  Out IP 198.18.0.1.50000 > 198.18.0.3.443: tcp 164",
      "100.000150 eth0  In  IP 198.18.0.3.443 > 198.18.0.1.50000: tcp 0",
      "100.001300 eth0  In  IP 198.18.0.3.443 > 198.18.0.1.50000: tcp 164",
      "100.001450 lo    In  IP 127.0.0.1.40001 > 127.0.0.1.51820: UDP, length 128",
      "100.050000 eth0  Out IP 198.18.0.1.45000 > 198.18.0.2.51821: UDP, length 13");
  private static final String RELAY = String.join("\n",
      "100.000110 eth0  In  IP 198.18.0.1.50000 > 198.18.0.3.443: tcp 164",
      "100.000310 eth0  Out IP 198.18.0.3.443 > 198.18.0.2.50001: tcp 164",
      "100.001000 eth0  In  IP 198.18.0.2.50001 > 198.18.0.3.443: tcp 164",
      "100.001200 eth0  Out IP 198.18.0.3.443 > 198.18.0.1.50000: tcp 164");
  private static final String B = String.join("\n",
      "100.000320 eth0  In  IP 198.18.0.3.443 > 198.18.0.2.50001: tcp 164",
      "100.000420 lo    In  IP 127.0.0.1.40002 > 127.0.0.1.51820: UDP, length 128",
      "100.000820 lo    In  IP 127.0.0.1.51820 > 127.0.0.1.40002: UDP, length 128",
      "100.000990 eth0  Out IP 198.18.0.2.50001 > 198.18.0.3.443: tcp 164");

  @Test
  void followsARelayedPingThroughItsTwelvePointsAndReportsEachHop() {
    String report = HopCapture.report(HopCapture.parse(A), HopCapture.parse(RELAY), HopCapture.parse(B), 443, 40001,
        40002, "198.18.0.1", "198.18.0.2", 2.0);
    assertTrue(report.contains("medians of 1 pings"), report);
    assertHop(report, "bridge a: UDP from WireGuard -> TLS out", 100);
    assertHop(report, "relay: in -> out (a to b)", 200);
    assertHop(report, "bridge b: TLS in -> UDP to WireGuard", 100);
    assertHop(report, "wireguard-go b + workload b", 400);
    assertHop(report, "bridge b: UDP from WireGuard -> TLS out", 170);
    assertHop(report, "relay: in -> out (b to a)", 200);
    assertHop(report, "bridge a: TLS in -> UDP to WireGuard", 150);
    assertHop(report, "from WireGuard a's datagram to the reply at WireGuard a", 1450);
    assertHop(report, "rest of the ping median", 550);
  }

  @Test
  void aPingNotSeenAtEveryPointIsLeftOut() {
    String report = HopCapture.report(HopCapture.parse(A), HopCapture.parse(RELAY), List.of(), 443, 40001, 40002,
        "198.18.0.1", "198.18.0.2", 2.0);
    assertTrue(report.contains("no complete ping seen"), report);
  }

  private static void assertHop(String report, String hop, long micros) {
    String line = report.lines().filter(l -> l.contains(hop)).findFirst().orElseThrow(() -> new AssertionError(hop
        + " missing in\n" + report));
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(-?\\d+) us").matcher(line);
    assertTrue(m.find(), line);
    long got = Long.parseLong(m.group(1));
    assertEquals(micros, got, line);
  }
}
