package io.meshwire.agent.nat;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.meshwire.agent.exec.CommandFailedException;
import io.meshwire.agent.exec.CommandRunner;
import io.meshwire.netaddr.Cidr;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code TunnelSourceFilter} is the gateway's edge check on the tunnel: a packet that arrives on the
 * WireGuard interface from a source outside every current peer's pod CIDRs (as this cluster sees
 * them, so after remapping) is dropped before it reaches a pod or the gateway. WireGuard's own
 * AllowedIPs check binds a source to a key; this filter binds it to the agent's persisted peer set,
 * so a peer that is no longer allowed (revoked, removed by peering policy) is cut off even while
 * WireGuard still knows its key, also while the hub is down and after an agent restart (the kernel
 * keeps the table; the agent rewrites it from its state).
 *
 * <p>The agent's own nftables table {@code inet meshwire_filter}: two interval sets ({@code
 * allowed4}, {@code allowed6}) and one base chain {@code tunnel_in} at prerouting, priority raw
 * (before conntrack and the NAT table's DNAT, where the source is still the peer's address as this
 * cluster sees it): accept from the sets, drop the rest of what came in on the interface. Written
 * as a whole in one {@code nft -f} transaction; read back with {@code nft -j} and rewritten only
 * when it differs (hand edits included). Tables of other software are never touched.
 *
 * <p>Thread-safe and stateless; each call runs {@code nft} once.
 */
public final class TunnelSourceFilter {

  private static final Logger log = LoggerFactory.getLogger(TunnelSourceFilter.class);

  /** The agent's filter table, family inet (both address families). */
  public static final String TABLE = "meshwire_filter";
  private static final String CHAIN = "tunnel_in";
  private static final String ALLOW4 = "allow: current peers (ipv4)";
  private static final String ALLOW6 = "allow: current peers (ipv6)";
  private static final String DROP = "drop: not a current peer";

  /**
   * What the table holds, as read back.
   *
   * @param ifName the interface the rules match, when they are as the agent writes them
   * @param allowed the sets' elements
   * @param asWritten whether chain and rules are exactly what {@link #script} writes
   */
  public record Table(boolean present, Optional<String> ifName, Set<Cidr> allowed, boolean asWritten) {
    public Table {
      allowed = Set.copyOf(allowed);
    }

    static final Table ABSENT = new Table(false, Optional.empty(), Set.of(), false);
  }

  private final CommandRunner runner;
  private final String table;
  private final Duration timeout;

  public TunnelSourceFilter(CommandRunner runner, String table, Duration timeout) {
    this.runner = Objects.requireNonNull(runner, "runner");
    this.table = NftNat.checkTable(table);
    this.timeout = Objects.requireNonNull(timeout, "timeout");
  }

  /** Table {@value #TABLE}, 10 second timeout. */
  public TunnelSourceFilter(CommandRunner runner) {
    this(runner, TABLE, Duration.ofSeconds(10));
  }

  /** The filter for this host, or empty (logged once, at WARN) when {@code nft} cannot run here. */
  public static Optional<TunnelSourceFilter> forHost(CommandRunner runner) {
    if (NftNat.available(runner)) {
      return Optional.of(new TunnelSourceFilter(runner));
    }
    log.warn("nft not found: traffic on the tunnel from sources that are not current peers is not filtered"
        + " (Debian: apt-get install nftables)");
    return Optional.empty();
  }

  /**
   * Brings the table to "accept from {@code allowed} on {@code ifName}, drop the rest there".
   *
   * @return whether it had to be written
   */
  public boolean sync(String ifName, List<Cidr> allowed) {
    Set<Cidr> desired = canonical(allowed);
    Table now = read();
    if (now.present() && now.asWritten() && now.ifName().equals(Optional.of(ifName))
        && now.allowed().equals(desired)) {
      return false;
    }
    runner.run(List.of("nft", "-f", "-"), script(table, ifName, desired).getBytes(StandardCharsets.UTF_8), timeout);
    Set<Cidr> added = new TreeSet<>(desired);
    added.removeAll(now.allowed());
    Set<Cidr> removed = new TreeSet<>(now.allowed());
    removed.removeAll(desired);
    log.info("tunnel source filter written table=inet/{} if={} allowed={} added={} removed={}{}", table, ifName,
        desired.size(), added, removed, now.present() && !now.asWritten() ? " repaired=true" : "");
    return true;
  }

  /** Removes the table: for uninstall, not for restarts. */
  public void remove() {
    runner.run(List.of("nft", "-f", "-"), ("add table inet " + table + "\ndelete table inet " + table + "\n")
        .getBytes(StandardCharsets.UTF_8), timeout);
  }

  /** The table as the kernel holds it. */
  public Table read() {
    String json;
    try {
      json = runner.run(List.of("nft", "-j", "list", "table", "inet", table), timeout).stdout();
    } catch (CommandFailedException e) {
      if (!e.timedOut() && e.stderr().contains("No such file or directory")) {
        return Table.ABSENT;
      }
      throw e;
    }
    return parse(json);
  }

  /**
   * The sources as the sets hold them: sorted, without a CIDR that another one contains (an
   * interval set refuses overlapping elements).
   */
  static Set<Cidr> canonical(List<Cidr> allowed) {
    Set<Cidr> out = new TreeSet<>();
    for (Cidr c : allowed) {
      if (allowed.stream().noneMatch(o -> !o.equals(c) && o.isIpv4() == c.isIpv4() && o.contains(c))) {
        out.add(c);
      }
    }
    return out;
  }

  /** The {@code nft -f} script that replaces the table as a whole. */
  static String script(String table, String ifName, Set<Cidr> allowed) {
    if (!ifName.matches("[A-Za-z0-9_.-]{1,15}")) {
      throw new IllegalArgumentException("interface: \"" + ifName + "\" is not an interface name");
    }
    StringBuilder out = new StringBuilder();
    out.append("add table inet ").append(table).append('\n');
    out.append("delete table inet ").append(table).append('\n');
    out.append("table inet ").append(table).append(" {\n");
    set(out, "allowed4", "ipv4_addr", allowed.stream().filter(Cidr::isIpv4).toList());
    set(out, "allowed6", "ipv6_addr", allowed.stream().filter(c -> !c.isIpv4()).toList());
    out.append("  chain ").append(CHAIN).append(" {\n");
    out.append("    type filter hook prerouting priority raw; policy accept;\n");
    out.append("    iifname \"").append(ifName).append("\" ip saddr @allowed4 accept comment \"").append(ALLOW4)
        .append("\"\n");
    out.append("    iifname \"").append(ifName).append("\" ip6 saddr @allowed6 accept comment \"").append(ALLOW6)
        .append("\"\n");
    out.append("    iifname \"").append(ifName).append("\" counter drop comment \"").append(DROP).append("\"\n");
    out.append("  }\n}\n");
    return out.toString();
  }

  private static void set(StringBuilder out, String name, String type, List<Cidr> elements) {
    out.append("  set ").append(name).append(" {\n    type ").append(type).append("\n    flags interval\n");
    if (!elements.isEmpty()) {
      out.append("    elements = { ").append(elements.stream().map(Cidr::toString).collect(Collectors.joining(", ")))
          .append(" }\n");
    }
    out.append("  }\n");
  }

  /**
   * Reads {@code nft -j list table inet TABLE}: the sets' elements, and whether the chain and its
   * three rules are what {@link #script} writes (anything else makes the table be rewritten).
   */
  static Table parse(String json) {
    JsonArray items = JsonParser.parseString(json).getAsJsonObject().getAsJsonArray("nftables");
    if (items == null) {
      throw new IllegalArgumentException("nft -j output: no \"nftables\" array");
    }
    boolean present = false;
    boolean asWritten = true;
    Set<Cidr> allowed = new TreeSet<>();
    Set<String> ifNames = new TreeSet<>();
    List<String> comments = new ArrayList<>();
    int chains = 0;
    for (JsonElement item : items) {
      JsonObject o = item.getAsJsonObject();
      if (o.has("table")) {
        present = true;
      } else if (o.has("set")) {
        JsonObject s = o.getAsJsonObject("set");
        String name = string(s, "name");
        asWritten &= name.equals("allowed4") || name.equals("allowed6");
        JsonArray elems = s.getAsJsonArray("elem");
        if (elems != null) {
          for (JsonElement e : elems) {
            Optional<Cidr> c = element(e);
            asWritten &= c.isPresent();
            c.ifPresent(allowed::add);
          }
        }
      } else if (o.has("chain")) {
        JsonObject c = o.getAsJsonObject("chain");
        chains++;
        asWritten &= string(c, "name").equals(CHAIN) && string(c, "hook").equals("prerouting")
            && string(c, "type").equals("filter") && string(c, "policy").equals("accept")
            && c.has("prio") && c.get("prio").getAsInt() == -300;
      } else if (o.has("rule")) {
        JsonObject r = o.getAsJsonObject("rule");
        comments.add(string(r, "comment"));
        JsonArray expr = r.getAsJsonArray("expr");
        JsonObject match = expr == null || expr.isEmpty() ? null : expr.get(0).getAsJsonObject().getAsJsonObject("match");
        if (match != null && match.getAsJsonObject("left").has("meta")) {
          ifNames.add(match.get("right").getAsString());
        } else {
          asWritten = false;
        }
      } else if (!o.has("metainfo")) {
        asWritten = false;
      }
    }
    asWritten &= chains == 1 && comments.equals(List.of(ALLOW4, ALLOW6, DROP)) && ifNames.size() == 1;
    Optional<String> ifName = ifNames.size() == 1 ? Optional.of(ifNames.iterator().next()) : Optional.empty();
    return new Table(present, ifName, allowed, present && asWritten);
  }

  /** {@code "10.0.0.1"} (a single address) or {@code {"prefix": {"addr": "10.0.0.0", "len": 16}}}; a range is not ours. */
  private static Optional<Cidr> element(JsonElement e) {
    try {
      if (e.isJsonPrimitive()) {
        return Optional.of(Cidr.host(Cidr.parseAddress(e.getAsString())));
      }
      JsonObject p = e.getAsJsonObject().getAsJsonObject("prefix");
      if (p == null) {
        return Optional.empty();
      }
      return Optional.of(Cidr.parse(p.get("addr").getAsString() + "/" + p.get("len").getAsInt()));
    } catch (RuntimeException notOurs) {
      return Optional.empty();
    }
  }

  private static String string(JsonObject o, String key) {
    JsonElement e = o.get(key);
    return e != null && e.isJsonPrimitive() ? e.getAsString() : "";
  }
}
