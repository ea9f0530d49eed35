package io.meshwire.agent.nat;

import java.util.List;

/**
 * {@code NatTable} is what the agent's NAT table of one family holds, as read back from the
 * kernel. Immutable.
 *
 * @param present whether the table exists
 * @param rules the rules recognised as the agent's, in the kernel's order
 * @param foreign one line per chain or rule that is not exactly what the agent writes (changed by
 *     hand, or by another version): their presence makes the table be rewritten
 */
record NatTable(NatFamily family, boolean present, List<NatRule> rules, List<String> foreign) {

  public NatTable {
    rules = List.copyOf(rules);
    foreign = List.copyOf(foreign);
  }

  public static NatTable absent(NatFamily family) {
    return new NatTable(family, false, List.of(), List.of());
  }
}
