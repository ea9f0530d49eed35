package io.meshwire.agent.nat;

import io.meshwire.agent.exec.CommandRunner;
import java.util.List;
import java.util.Map;

/**
 * {@code Nat} is the driver for the gateway's remapping rules: one table of the agent's own per
 * family, read back and replaced as a whole. The real implementation is {@link NftNat}.
 *
 * <p>Methods block while the tool runs and throw {@link io.meshwire.agent.exec.CommandFailedException}
 * naming the command when it fails. Implementations are thread-safe.
 */
public interface Nat {

  /** The agent's tables as they are now, one per family (absent ones included). */
  Map<NatFamily, NatTable> tables();

  /** Applies {@code changes} atomically (all or none). */
  void apply(List<NatChange> changes);

  /** Removes the agent's tables: for uninstall, not for restarts. */
  default void removeAll() {
    apply(List.of(new NatChange.DeleteTable(NatFamily.IPV4), new NatChange.DeleteTable(NatFamily.IPV6)));
  }

  /**
   * Brings the tables to {@code desired}: reads them, diffs ({@link NatDiff}) and applies only when
   * something differs.
   *
   * @return the changes made, empty when the tables were right
   */
  default List<NatChange> sync(List<NatRule> desired) {
    List<NatChange> changes = NatDiff.diff(desired, tables());
    if (!changes.isEmpty()) {
      apply(changes);
    }
    return changes;
  }

  /**
   * The driver for this host: {@link NftNat} when {@code nft} runs, else one that needs no rule
   * and refuses any (an iptables NETMAP fallback is not built yet).
   */
  static Nat forHost(CommandRunner runner) {
    if (NftNat.available(runner)) {
      return new NftNat(runner);
    }
    return new Nat() {
      @Override
      public Map<NatFamily, NatTable> tables() {
        return Map.of(NatFamily.IPV4, NatTable.absent(NatFamily.IPV4), NatFamily.IPV6, NatTable.absent(NatFamily.IPV6));
      }

      @Override
      public void apply(List<NatChange> changes) {
        if (changes.stream().anyMatch(c -> c instanceof NatChange.WriteTable)) {
          throw new IllegalStateException("overlap remapping needs nft (nftables 1.0+, Debian: apt-get install "
              + "nftables); the iptables NETMAP fallback is not implemented");
        }
      }

      @Override
      public String toString() {
        return "Nat[none: nft missing]";
      }
    };
  }
}
