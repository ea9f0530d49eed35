package io.meshwire.agent.nat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * {@code NatDiff} compares the planned NAT rules with the tables read back and says what to do,
 * per family: nothing when the table holds exactly the plan (as a set, with nothing foreign);
 * {@link NatChange.WriteTable} when it differs or is missing; {@link NatChange.DeleteTable} when
 * no rule is needed but the table exists. Applying the result and diffing again yields nothing.
 * Pure and thread-safe.
 */
final class NatDiff {

  private NatDiff() {}

  public static List<NatChange> diff(List<NatRule> desired, Map<NatFamily, NatTable> actual) {
    List<NatChange> changes = new ArrayList<>();
    for (NatFamily family : NatFamily.values()) {
      List<NatRule> want = desired.stream().filter(r -> r.family() == family).sorted(NatRule.ORDER).distinct().toList();
      NatTable have = actual.getOrDefault(family, NatTable.absent(family));
      if (want.isEmpty()) {
        if (have.present()) {
          changes.add(new NatChange.DeleteTable(family));
        }
        continue;
      }
      List<NatRule> haveSorted = have.rules().stream().sorted(NatRule.ORDER).toList();
      if (have.present() && have.foreign().isEmpty() && haveSorted.equals(want)) {
        continue;
      }
      TreeSet<NatRule> added = new TreeSet<>(NatRule.ORDER);
      added.addAll(want);
      have.rules().forEach(added::remove);
      TreeSet<NatRule> removed = new TreeSet<>(NatRule.ORDER);
      removed.addAll(have.rules());
      want.forEach(removed::remove);
      changes.add(new NatChange.WriteTable(family, want, List.copyOf(added), List.copyOf(removed)));
    }
    return List.copyOf(changes);
  }
}
