package io.meshwire.netaddr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class CidrTest {

  @ParameterizedTest
  @CsvSource({
    "10.244.0.0/16, 10.244.0.0/16",
    "0.0.0.0/0, 0.0.0.0/0",
    "fd00::/64, fd00::/64",
    "fd00:0:0:1::/64, fd00:0:0:1::/64",
    "2001:db8:0:0:1:0:0:0/128, 2001:db8:0:0:1::/128",
    "2001:db8:0:0:1:0:0:1/128, 2001:db8::1:0:0:1/128",
    "::/0, ::/0",
  })
  void parsesAndPrintsCanonicalForm(String input, String canonical) {
    assertEquals(canonical, Cidr.parse(input).toString());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
    "10.0.0.0/33 | prefix length out of range",
    "10.0.0.1/8 | host bits set (did you mean 10.0.0.0/8?)",
    "10.0.0/8 | not an IPv4 address",
    "10.0.0.256/32 | octet 256 out of range",
    "10.0.0.0 | expected address/prefix",
    "example.com/24 | not an IP address",
    "10.0.0.0/-1 | prefix length is not a number",
    "fd00::/129 | prefix length out of range",
    "::ffff:10.0.0.0/112 | IPv4-mapped IPv6 address: write the IPv4 form (10.0.0.0/<prefix - 96>)",
    "::ffff:a00:0/112 | IPv4-mapped IPv6 address: write the IPv4 form (10.0.0.0/<prefix - 96>)",
  })
  void rejectsMalformedInputNamingIt(String input, String problem) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Cidr.parse(input));
    assertEquals("\"" + input + "\": " + problem, e.getMessage());
  }

  @Test
  void overlapAndContainment() {
    Cidr wide = Cidr.parse("10.0.0.0/8");
    Cidr pods = Cidr.parse("10.244.0.0/16");
    Cidr other = Cidr.parse("192.168.0.0/16");
    assertTrue(wide.contains(pods));
    assertFalse(pods.contains(wide));
    assertTrue(pods.overlaps(wide));
    assertFalse(pods.overlaps(other));
    assertFalse(pods.overlaps(Cidr.parse("fd00::/8")));
    assertTrue(pods.contains(Cidr.parseAddress("10.244.3.4")));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
    "198.18.0.2:51820 | 198.18.0.2 | 51820",
    "[fd00::1]:443 | fd00::1 | 443",
    "gw.east.example:51820 | gw.east.example | 51820",
  })
  void parsesEndpoints(String input, String host, int port) {
    HostPort hp = HostPort.parse(input);
    assertEquals(host, hp.host());
    assertEquals(port, hp.port());
    assertEquals(input, hp.toString());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
    "198.18.0.2 | expected host:port",
    "198.18.0.2:0 | port out of range 1..65535",
    "198.18.0.2:70000 | port out of range 1..65535",
    "fd00::1:443 | expected host:port",
    "bad_host:1 | host is neither an IP address nor a DNS name",
  })
  void rejectsMalformedEndpoints(String input, String problem) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HostPort.parse(input));
    assertEquals("\"" + input + "\": " + problem, e.getMessage());
  }
}
