package io.meshwire.agent.nat;

import java.util.List;
import java.util.Objects;

/** {@code NatChange} is one step that brings the agent's NAT table of one family to the plan. Immutable. */
public sealed interface NatChange {

  NatFamily family();

  /**
   * Replace the table's contents with {@code rules}, atomically (created if absent). {@code added}
   * and {@code removed} say what differs, for logs.
   */
  record WriteTable(NatFamily family, List<NatRule> rules, List<NatRule> added, List<NatRule> removed)
      implements NatChange {
    public WriteTable {
      Objects.requireNonNull(family, "family");
      rules = List.copyOf(rules);
      added = List.copyOf(added);
      removed = List.copyOf(removed);
      if (rules.isEmpty()) {
        throw new IllegalArgumentException("write " + family.nft() + " table without rules: delete it instead");
      }
    }
  }

  /** Remove the table: no rule of this family is needed. */
  record DeleteTable(NatFamily family) implements NatChange {
    public DeleteTable {
      Objects.requireNonNull(family, "family");
    }
  }
}
