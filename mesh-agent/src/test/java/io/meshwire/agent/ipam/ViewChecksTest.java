package io.meshwire.agent.ipam;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.meshwire.agent.state.View;
import io.meshwire.netaddr.Cidr;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Which views of this cluster are applied: one table, each refusal naming the mapping and field. */
class ViewChecksTest {

  private static final List<Cidr> MINE = List.of(Cidr.parse("10.244.0.0/16"), Cidr.parse("fd00:10::/64"));

  /** {@code "original>seenAs original>seenAs"}. */
  private static View view(String mappings) {
    List<View.Mapping> out = new ArrayList<>();
    for (String m : mappings.split(" ")) {
      if (!m.isBlank()) {
        out.add(new View.Mapping(Cidr.parse(m.split(">")[0]), Cidr.parse(m.split(">")[1])));
      }
    }
    return new View("west", "east", out, 7);
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource(delimiter = '|', nullValues = "-", value = {
    "10.244.0.0/16>10.1.0.0/16                      | -",
    "10.244.0.0/16>10.244.0.0/16                    | -",
    "''                                             | -",
    "10.244.0.0/16>10.1.0.0/16 fd00:10::/64>fd99::/64 | -",
    "10.244.0.0/16>10.1.0.0/24                      | mappings[0].seen_as: \"10.1.0.0/24\" is not the size of original \"10.244.0.0/16\"",
    "10.244.0.0/16>fd99::/16                        | mappings[0].seen_as: \"fd99::/16\" is not the size of original \"10.244.0.0/16\"",
    "10.245.0.0/16>10.1.0.0/16                      | mappings[0].original: \"10.245.0.0/16\" is not one of my pod CIDRs [10.244.0.0/16, fd00:10::/64]",
    "10.244.0.0/16>10.1.0.0/16 10.244.0.0/16>10.2.0.0/16 | mappings[1].original: \"10.244.0.0/16\" is mapped twice",
    "10.244.0.0/16>fd99::/64 fd00:10::/64>fd99::/64   | mappings[0].seen_as: \"fd99::/64\" is not the size of original \"10.244.0.0/16\"",
  })
  void acceptsOnlyViewsOfMyPodCidrsOfTheRightSize(String mappings, String problem) {
    assertEquals(Optional.ofNullable(problem).map(p -> "view west->east: " + p),
        ViewChecks.problemAsViewOfMe(view(mappings), MINE));
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource(delimiter = '|', value = {
    "10.0.0.0/16 10.1.0.0/16 | 10.0.0.0/16>10.9.0.0/16 10.1.0.0/16>10.9.0.0/16 | mappings[1].seen_as: \"10.9.0.0/16\" overlaps mappings[0].seen_as \"10.9.0.0/16\"",
  })
  void refusesTwoMappingsOntoOneBlock(String mine, String mappings, String problem) {
    List<Cidr> own = java.util.Arrays.stream(mine.split(" ")).map(Cidr::parse).toList();
    assertEquals(Optional.of("view west->east: " + problem), ViewChecks.problemAsViewOfMe(view(mappings), own));
  }
}
