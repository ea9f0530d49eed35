package io.meshwire.agent.nat;

import io.meshwire.agent.exec.CommandFailedException;
import io.meshwire.agent.exec.CommandRunner;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code NftNat} is the {@link Nat} driver built on nftables: tables {@code ip meshwire} and
 * {@code ip6 meshwire} (see {@link NftFormat} for their layout), read with {@code nft -j list
 * table} and replaced with one {@code nft -f -} transaction, script on stdin. Needs nft 1.0 or later
 * and a kernel with prefix NAT (5.8+). Tables of other software are never touched.
 *
 * <p>Thread-safe and stateless; each call runs {@code nft} once per family (reads) or once (writes).
 */
public final class NftNat implements Nat {

  private static final Logger log = LoggerFactory.getLogger(NftNat.class);

  /** The agent's table name, in both families. */
  public static final String TABLE = "meshwire";

  private final CommandRunner runner;
  private final String table;
  private final Duration timeout;

  /**
   * @param runner runs {@code nft}
   * @param table the table name in both families
   * @param timeout for each {@code nft} invocation
   */
  public NftNat(CommandRunner runner, String table, Duration timeout) {
    this.runner = Objects.requireNonNull(runner, "runner");
    this.table = checkTable(table);
    this.timeout = Objects.requireNonNull(timeout, "timeout");
  }

  /** Table {@value #TABLE}, 10 second timeout. */
  public NftNat(CommandRunner runner) {
    this(runner, TABLE, Duration.ofSeconds(10));
  }

  /** {@code table} when it is a table name the agent may use (1..32 of [A-Za-z0-9_-]). */
  static String checkTable(String table) {
    if (table == null || !table.matches("[A-Za-z0-9_-]{1,32}")) {
      throw new IllegalArgumentException("nft table \"" + table + "\": must be 1..32 of [A-Za-z0-9_-]");
    }
    return table;
  }

  /** Whether {@code nft} can be run here. */
  public static boolean available(CommandRunner runner) {
    try {
      runner.run(List.of("nft", "--version"), Duration.ofSeconds(5));
      return true;
    } catch (CommandFailedException e) {
      return false;
    }
  }

  @Override
  public Map<NatFamily, NatTable> tables() {
    Map<NatFamily, NatTable> out = new EnumMap<>(NatFamily.class);
    for (NatFamily family : NatFamily.values()) {
      String json;
      try {
        json = runner.run(List.of("nft", "-j", "list", "table", family.nft(), table), timeout).stdout();
      } catch (CommandFailedException e) {
        // ENOENT: the table does not exist, which is a normal state (no remapping needed).
        if (!e.timedOut() && e.stderr().contains("No such file or directory")) {
          out.put(family, NatTable.absent(family));
          continue;
        }
        throw e;
      }
      out.put(family, NftFormat.parse(family, json));
    }
    return out;
  }

  @Override
  public void apply(List<NatChange> changes) {
    if (changes.isEmpty()) {
      return;
    }
    String script = NftFormat.script(table, changes);
    runner.run(List.of("nft", "-f", "-"), script.getBytes(StandardCharsets.UTF_8), timeout);
    for (NatChange change : changes) {
      switch (change) {
        case NatChange.WriteTable w -> log.info("nat table written family={} table={} rules={} added={} removed={}",
            w.family().nft(), table, w.rules().size(), w.added().stream().map(NftFormat::rule).toList(),
            w.removed().stream().map(NftFormat::rule).toList());
        case NatChange.DeleteTable d -> log.info("nat table removed family={} table={}", d.family().nft(), table);
      }
    }
  }

  @Override
  public String toString() {
    return "NftNat[table=" + table + "]";
  }
}
