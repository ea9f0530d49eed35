package io.meshwire.agent.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CidrTest {

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
    "10.101.0.0/16,           10.101.0.0/16",
    "' 10.101.0.1/16 ',       10.101.0.1/16",
    "0.0.0.0/0,               0.0.0.0/0",
    "198.18.0.2/32,           198.18.0.2/32",
    "FD00:0:0:0::/64,         fd00::/64",
    "2001:db8:0:0:1:0:0:1/128, 2001:db8::1:0:0:1/128",
    "2001:db8:0:1:1:1:1:1/64, 2001:db8:0:1:1:1:1:1/64",
    "::/0,                    ::/0",
    "::1/128,                 ::1/128",
    "fe80::/10,               fe80::/10",
  })
  void parsesAndPrintsCanonically(String text, String canonical) {
    assertEquals(canonical, Cidr.parse(text).toString());
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "10.0.0.0/33        | \"10.0.0.0/33\": prefix length out of range",
        "fd00::/129         | \"fd00::/129\": prefix length out of range",
        "10.0.0.0           | \"10.0.0.0\": not a CIDR, expected address/prefix",
        "10.0.0/8           | \"10.0.0/8\": not a CIDR, bad address",
        "256.0.0.0/8        | \"256.0.0.0/8\": not a CIDR, bad address",
        "example.com/8      | \"example.com/8\": not a CIDR, bad address",
        "10.0.0.0/-1        | \"10.0.0.0/-1\": not a CIDR, bad prefix length",
        "10.0.0.0/          | \"10.0.0.0/\": not a CIDR, bad prefix length",
        "fd00:::1/64        | \"fd00:::1/64\": not a CIDR, bad address",
        "::ffff:10.0.0.0/104 | \"::ffff:10.0.0.0/104\": not a CIDR, bad address",
      })
  void rejectsWithAMessageQuotingTheInput(String text, String message) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Cidr.parse(text));
    assertEquals(message, e.getMessage());
  }

  @Test
  void parseNetworkRejectsHostBitsAndNamesTheNetwork() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Cidr.parseNetwork("10.0.0.5/8"));
    assertEquals("\"10.0.0.5/8\": host bits set, the network is 10.0.0.0/8", e.getMessage());
    assertEquals(Cidr.parse("10.0.0.0/8"), Cidr.parseNetwork("10.0.0.0/8"));
  }

  @ParameterizedTest(name = "{0}.network() = {1}")
  @CsvSource({
    "10.101.7.9/16,   10.101.0.0/16",
    "10.101.7.9/20,   10.101.0.0/20",
    "10.101.7.9/32,   10.101.7.9/32",
    "10.101.7.9/0,    0.0.0.0/0",
    "fd00:1:2:3::5/48, fd00:1:2::/48",
    "fd00:1:2:3::5/61, fd00:1:2::/61",
  })
  void networkClearsHostBits(String text, String network) {
    Cidr cidr = Cidr.parse(text);
    assertEquals(network, cidr.network().toString());
    assertTrue(cidr.network().isNetwork());
  }

  @ParameterizedTest(name = "{0} contains {1}: {2}, overlaps: {3}")
  @CsvSource({
    "10.0.0.0/8,     10.1.0.0/16,   true,  true",
    "10.1.0.0/16,    10.0.0.0/8,    false, true",
    "10.1.0.0/16,    10.2.0.0/16,   false, false",
    "10.1.0.0/16,    10.1.0.0/16,   true,  true",
    "0.0.0.0/0,      192.0.2.1/32,  true,  true",
    "10.1.0.0/16,    fd00::/8,      false, false",
    "::/0,           10.0.0.0/8,    false, false",
    "fd00::/8,       fd12:3456::/32, true, true",
    "fd00::/16,      fd01::/16,     false, false",
  })
  void containsAndOverlaps(String a, String b, boolean contains, boolean overlaps) {
    assertEquals(contains, Cidr.parse(a).contains(Cidr.parse(b)));
    assertEquals(overlaps, Cidr.parse(a).overlaps(Cidr.parse(b)));
    assertEquals(overlaps, Cidr.parse(b).overlaps(Cidr.parse(a)));
  }

  @Test
  void containsAnAddress() {
    assertTrue(Cidr.parse("10.102.0.0/16").contains(Cidr.parseAddress("10.102.0.10")));
    assertTrue(!Cidr.parse("10.102.0.0/16").contains(Cidr.parseAddress("10.103.0.10")));
  }

  @Test
  void sortsIpv4FirstThenByAddressThenByPrefix() {
    List<String> sorted =
        Stream.of("fd00::/8", "10.2.0.0/16", "10.10.0.0/16", "10.2.0.0/15", "192.168.0.0/16")
            .map(Cidr::parse)
            .sorted()
            .map(Cidr::toString)
            .toList();
    assertEquals(
        List.of("10.2.0.0/15", "10.2.0.0/16", "10.10.0.0/16", "192.168.0.0/16", "fd00::/8"), sorted);
  }

  @Test
  void equalityIgnoresHowTheAddressWasWritten() {
    assertEquals(Cidr.parse("fd00:0::/64"), Cidr.parse("FD00::/64"));
    assertEquals(Cidr.parse("fd00::/64").hashCode(), Cidr.parse("fd00:0:0::/64").hashCode());
    assertEquals(Cidr.host(Cidr.parseAddress("10.0.0.1")), Cidr.parse("10.0.0.1/32"));
  }
}
