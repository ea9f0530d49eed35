package io.meshwire.netaddr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Prefix-preserving translation: one table, both directions, IPv4 and IPv6, edge addresses. */
class TranslationTest {

  @ParameterizedTest(name = "{0} in {1} -> {3}")
  @CsvSource(delimiter = '|', value = {
    // address             | from              | to                  | translated
    "10.244.3.7            | 10.244.0.0/16     | 10.1.0.0/16         | 10.1.3.7",
    "10.244.0.0            | 10.244.0.0/16     | 10.1.0.0/16         | 10.1.0.0",         // network address
    "10.244.255.255        | 10.244.0.0/16     | 10.1.0.0/16         | 10.1.255.255",     // broadcast address
    "10.244.0.10           | 10.244.0.0/16     | 10.244.0.0/16       | 10.244.0.10",      // identity
    "192.168.1.130         | 192.168.1.128/25  | 172.16.7.0/25       | 172.16.7.2",       // prefix not on a byte boundary
    "10.244.17.200         | 10.244.16.0/20    | 10.3.240.0/20       | 10.3.241.200",     // /20: host bits cross a byte
    "10.0.0.1              | 10.0.0.1/32       | 10.9.9.9/32         | 10.9.9.9",         // single address
    "1.2.3.4               | 0.0.0.0/0         | 0.0.0.0/0           | 1.2.3.4",          // the whole space
    "255.255.255.255       | 255.255.0.0/16    | 0.0.0.0/16          | 0.0.255.255",      // top of the space to the bottom
    "fd00:1::abcd          | fd00:1::/64       | fd00:99::/64        | fd00:99::abcd",
    "fd00:1::ffff:ffff:ffff:ffff | fd00:1::/64 | fd00:99::/64        | fd00:99::ffff:ffff:ffff:ffff",
    "2001:db8:0:234::1     | 2001:db8::/52     | fd00:0:0:f000::/52  | fd00:0:0:f234::1", // /52 splits a group
    "fd00::1               | fd00::1/128       | fd00::2/128         | fd00::2",
  })
  void translatesAndBack(String address, String from, String to, String translated) {
    Translation t = new Translation(Cidr.parse(from), Cidr.parse(to));

    assertEquals(Cidr.parseAddress(translated), t.forward(Cidr.parseAddress(address)));
    assertEquals(Cidr.parseAddress(address), t.reverse(Cidr.parseAddress(translated)));
    assertEquals(Cidr.parseAddress(address), t.inverse().forward(Cidr.parseAddress(translated)));
    assertEquals(Cidr.parseAddress(translated),
        Cidr.translate(Cidr.parseAddress(address), Cidr.parse(from), Cidr.parse(to)));
  }

  @ParameterizedTest(name = "{0} -> {1}: {2}")
  @CsvSource(delimiter = '|', value = {
    "10.244.0.0/16 | 10.1.0.0/24  | translation 10.244.0.0/16 -> 10.1.0.0/24: to: prefix length 24 differs from 16",
    "10.244.0.0/16 | fd00::/16    | translation 10.244.0.0/16 -> fd00::/16: to: not the family of from",
  })
  void rejectsCidrsOfAnotherSizeOrFamily(String from, String to, String message) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new Translation(Cidr.parse(from), Cidr.parse(to)));
    assertEquals(message, e.getMessage());
  }

  @ParameterizedTest(name = "{0} not in {1}")
  @CsvSource(delimiter = '|', value = {
    "10.245.0.1  | 10.244.0.0/16",
    "10.243.255.255 | 10.244.0.0/16",
    "fd00::1     | 10.244.0.0/16",
    "10.244.0.1  | fd00::/64",
  })
  void rejectsAnAddressOutsideTheSource(String address, String from) {
    Cidr source = Cidr.parse(from);
    Cidr target = source.isIpv4() ? Cidr.parse("10.1.0.0/16") : Cidr.parse("fd00:99::/64");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new Translation(source, target).forward(Cidr.parseAddress(address)));
    assertEquals("address " + Cidr.format(Cidr.parseAddress(address)) + ": not in " + from, e.getMessage());
  }

  @Test
  void translatesAPrefixInsideTheSource() {
    Translation t = new Translation(Cidr.parse("10.244.0.0/16"), Cidr.parse("10.1.0.0/16"));
    assertEquals(Cidr.parse("10.1.7.0/24"), t.forward(Cidr.parse("10.244.7.0/24")));
    assertEquals(Cidr.parse("10.1.0.0/16"), t.forward(Cidr.parse("10.244.0.0/16")));
    assertThrows(IllegalArgumentException.class, () -> t.forward(Cidr.parse("10.0.0.0/8")));
  }

  @Test
  void identityIsRecognised() {
    assertTrue(new Translation(Cidr.parse("10.244.0.0/16"), Cidr.parse("10.244.0.0/16")).isIdentity());
    assertFalse(new Translation(Cidr.parse("10.244.0.0/16"), Cidr.parse("10.1.0.0/16")).isIdentity());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
    "167772160 | 16 | true  | 10.0.0.0/16",
    "0         | 0  | true  | 0.0.0.0/0",
    "4294967295 | 32 | true | 255.255.255.255/32",
    "338288524927261089654018896841347694592 | 16 | false | fe80::/16",
  })
  void buildsAPrefixFromItsFirstAddress(String first, int prefix, boolean ipv4, String cidr) {
    Cidr built = Cidr.of(new BigInteger(first), prefix, ipv4);
    assertEquals(Cidr.parse(cidr), built);
    assertEquals(new BigInteger(first), built.first());
    assertEquals(built.first().add(built.size()), built.end());
  }

  @Test
  void rejectsAFirstAddressThatDoesNotFit() {
    assertThrows(IllegalArgumentException.class, () -> Cidr.of(BigInteger.ONE.shiftLeft(32), 32, true));
    assertThrows(IllegalArgumentException.class, () -> Cidr.of(BigInteger.ONE, 24, true));
  }
}
