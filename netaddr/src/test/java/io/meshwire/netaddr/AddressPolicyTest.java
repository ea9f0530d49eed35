package io.meshwire.netaddr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class AddressPolicyTest {

  @ParameterizedTest
  @ValueSource(strings = {"10.0.0.0/8", "10.244.0.0/16", "100.64.0.0/10", "172.16.0.0/12", "192.168.1.0/24",
      "203.0.113.7/32", "fd00::/48", "2001:db8::/32", "fd00:1:2:3::/64", "126.0.0.0/8", "128.0.0.0/8"})
  void unicastRangesAClusterCanOwnAreAccepted(String cidr) {
    assertEquals(Optional.empty(), AddressPolicy.DEFAULT.problem(Cidr.parse(cidr)));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
    "0.0.0.0/0 | default route",
    "::/0 | default route",
    "0.0.0.0/1 | default route half",
    "128.0.0.0/1 | default route half",
    "8000::/1 | default route half",
    "0.0.0.0/8 | \"this network\"",
    "127.0.0.0/8 | loopback",
    "127.1.0.0/16 | loopback",
    "169.254.0.0/16 | link-local",
    "224.0.0.0/8 | multicast",
    "240.0.0.0/8 | reserved",
    "255.255.255.255/32 | reserved",
    "::1/128 | loopback",
    "::/128 | unspecified",
    "fe80::/64 | link-local",
    "ff02::/64 | multicast",
    "10.0.0.0/7 | wider than /8",
    "2001:db8::/31 | wider than /32",
  })
  void specialAndCatchAllRangesAreRefusedSayingWhy(String cidr, String reason) {
    Optional<String> problem = AddressPolicy.DEFAULT.problem(Cidr.parse(cidr));
    assertTrue(problem.isPresent() && problem.get().contains(reason), cidr + ": " + problem);
  }

  @Test
  void ipv4MappedRangeBuiltFromBytesIsRefusedToo() {
    byte[] mapped = new byte[16];
    mapped[10] = (byte) 0xff;
    mapped[11] = (byte) 0xff;
    mapped[12] = 10;
    Cidr cidr = new Cidr(mapped, 112);
    assertEquals("::ffff:a00:0/112", cidr.toString(), "16 bytes never print as IPv4");
    assertTrue(AddressPolicy.DEFAULT.problem(cidr).orElseThrow().contains("IPv4-mapped"));
  }

  @Test
  void settingParsesBothFamiliesOrIpv4Alone() {
    assertEquals(new AddressPolicy(12, 48), AddressPolicy.parse("/12,/48"));
    assertEquals(new AddressPolicy(16, 32), AddressPolicy.parse("16"));
    assertEquals("/8,/32", AddressPolicy.DEFAULT.toString());
    assertThrows(IllegalArgumentException.class, () -> AddressPolicy.parse("/1"));
    assertThrows(IllegalArgumentException.class, () -> AddressPolicy.parse("eight"));
    assertThrows(IllegalArgumentException.class, () -> AddressPolicy.parse("/8,/32,/1"));
  }
}
