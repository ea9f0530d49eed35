package io.meshwire.agent.wireguard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.meshwire.netaddr.Cidr;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class IpRouteDumpTest {

  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "''                                                         | false | ''",
        "'10.102.0.0/16 scope link '                                | false | 10.102.0.0/16",
        "'10.3.0.7 scope link '                                     | false | 10.3.0.7/32",
        "'default scope link '                                      | false | 0.0.0.0/0",
        "'10.101.0.0/16 proto kernel scope link src 10.101.0.1 '    | false | ''",
        "'unreachable 10.9.0.0/16 '                                 | false | ''",
        "'unicast 10.9.0.0/16 proto static scope link '             | false | 10.9.0.0/16",
        "'10.104.0.0/16 scope link \n10.102.0.0/16 scope link \n10.102.0.0/16 metric 5 scope link ' | false | 10.102.0.0/16,10.104.0.0/16",
        "'fd00:2::/64 metric 1024 pref medium\nfe80::/64 proto kernel metric 256 pref medium' | true | fd00:2::/64",
        "'default metric 1024 pref medium'                          | true  | ::/0",
        "'fd00::5 metric 1024 pref medium'                          | true  | fd00::5/128",
      })
  void keepsUnicastRoutesAddedToTheDevice(String output, boolean ipv6, String expected) {
    List<Cidr> want =
        expected.isEmpty() ? List.of() : Arrays.stream(expected.split(",")).map(Cidr::parse).toList();
    assertEquals(want, IpRouteDump.parse(output.replace("\\n", "\n"), ipv6));
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "'10.102.0.0/16 scope link\nbogus scope link' | ip route line 2 \"bogus scope link\": not a route: \"bogus\": not an IP address",
      })
  void rejectsALineThatIsNotARoute(String output, String message) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> IpRouteDump.parse(output.replace("\\n", "\n"), false));
    assertEquals(message, e.getMessage());
  }
}
