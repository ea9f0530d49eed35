package io.meshwire.agent.wireguard;

import static io.meshwire.agent.wireguard.TestKeys.key;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.netaddr.Cidr;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class WgDumpTest {

  @Test
  void parsesInterfaceAndPeersFromARealDump() {
    String dump =
        String.join("\t", key(1), key(2), "51820", "off") + "\n"
            + String.join("\t", key(3), "(none)", "198.18.0.12:51820", "10.102.0.0/16,fd00:102::/64",
                "1732672800", "92", "180", "25") + "\n"
            + String.join("\t", key(4), "(none)", "[fd00::1]:4500", "(none)", "0", "0", "0", "off")
            + "\n"
            + String.join("\t", key(5), key(6), "(none)", "10.103.0.0/16", "0", "0", "0", "off")
            + "\n";

    WgInterfaceState state = WgDump.parse("mwt1a2bawg", dump);

    assertEquals(key(1), state.privateKey());
    assertEquals(key(2), state.publicKey());
    assertEquals(51820, state.listenPort());
    assertEquals(
        List.of(
            new WgPeerState(key(3),
                Optional.of(new InetSocketAddress(Cidr.parseAddress("198.18.0.12"), 51820)),
                List.of(Cidr.parse("10.102.0.0/16"), Cidr.parse("fd00:102::/64")),
                Optional.of(Instant.ofEpochSecond(1732672800)), 92, 180, Duration.ofSeconds(25)),
            new WgPeerState(key(4),
                Optional.of(new InetSocketAddress(Cidr.parseAddress("fd00::1"), 4500)),
                List.of(), Optional.empty(), 0, 0, Duration.ZERO),
            new WgPeerState(key(5), Optional.empty(), List.of(Cidr.parse("10.103.0.0/16")),
                Optional.empty(), 0, 0, Duration.ZERO)),
        state.peers());
    assertTrue(state.peer(key(4)).isPresent());
    assertFalse(state.toString().contains(key(1)), "toString must not print the private key");
  }

  @Test
  void parsesAFreshInterfaceWithoutKeysOrPeers() {
    WgInterfaceState state = WgDump.parse("wg0", "(none)\t(none)\t0\toff\n");
    assertEquals(new WgInterfaceState("", "", 0, List.of()), state);
  }

  @ParameterizedTest(name = "{1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "''                                       | wg show wg0 dump: empty output",
        "'K\tP\t51820'                            | wg show wg0 dump line 1: 3 tab-separated fields, expected 4",
        "'K\tP\tport\toff'                        | wg show wg0 dump line 1: listen-port \"port\": not a number",
        "'K\tP\t70000\toff'                       | wg show wg0 dump line 1: listen-port \"70000\": out of range",
        "'K\tP\t1\toff\nX\t(none)\t(none)\t(none)\tyesterday\t0\t0\toff' | wg show wg0 dump line 2: latest-handshake \"yesterday\": not a number",
        "'K\tP\t1\toff\nX\t(none)\tnowhere\t(none)\t0\t0\t0\toff' | wg show wg0 dump line 2: endpoint \"nowhere\": expected address:port",
        "'K\tP\t1\toff\nX\t(none)\t(none)\t10.0.0.0/33\t0\t0\t0\toff' | wg show wg0 dump line 2: allowed-ips \"10.0.0.0/33\": prefix length out of range",
        "'K\tP\t1\toff\nX\t(none)\t(none)\t(none)\t0\t0\t0\tsometimes' | wg show wg0 dump line 2: persistent-keepalive \"sometimes\": not a number",
        "'K\tP\t1\toff\nX\t(none)\t(none)\t(none)\t0\t0\t0' | wg show wg0 dump line 2: 7 tab-separated fields, expected 8",
      })
  void rejectsMalformedDumpsNamingLineAndField(String dump, String message) {
    String unescaped = dump.replace("\\t", "\t").replace("\\n", "\n");
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> WgDump.parse("wg0", unescaped));
    assertEquals(message, e.getMessage());
  }
}
