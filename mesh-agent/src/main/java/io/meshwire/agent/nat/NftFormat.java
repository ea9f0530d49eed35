package io.meshwire.agent.nat;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import io.meshwire.netaddr.Cidr;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@code NftFormat} writes the agent's NAT tables as an {@code nft -f} script and reads them back
 * from {@code nft -j list table} output. Pure and thread-safe.
 *
 * <p>The table of a family holds exactly two base chains, {@code prerouting} (type nat, priority
 * dstnat) with the DNAT rules and {@code postrouting} (type nat, priority srcnat) with the SNAT
 * rules; each rule has the comment {@code peer=ID}. A script replaces a whole table in one
 * transaction ({@code add} + {@code delete} + full definition), so the kernel never holds half a
 * rule set; {@code nft -f} applies the whole script atomically.
 */
final class NftFormat {

  /** The prefix of every rule comment; the peer ID follows. */
  static final String COMMENT_PREFIX = "peer=";

  private NftFormat() {}

  /** The script that applies {@code changes} in one transaction. */
  public static String script(String table, List<NatChange> changes) {
    StringBuilder out = new StringBuilder();
    for (NatChange change : changes) {
      String family = change.family().nft();
      // "add table" first makes the delete succeed whether or not the table exists.
      out.append("add table ").append(family).append(' ').append(table).append('\n');
      out.append("delete table ").append(family).append(' ').append(table).append('\n');
      if (change instanceof NatChange.WriteTable write) {
        out.append("table ").append(family).append(' ').append(table).append(" {\n");
        out.append("  chain prerouting {\n    type nat hook prerouting priority dstnat; policy accept;\n");
        write.rules().stream().filter(r -> r instanceof NatRule.Dnat)
            .forEach(r -> out.append("    ").append(rule(r)).append('\n'));
        out.append("  }\n");
        out.append("  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n");
        write.rules().stream().filter(r -> r instanceof NatRule.Snat)
            .forEach(r -> out.append("    ").append(rule(r)).append('\n'));
        out.append("  }\n}\n");
      }
    }
    return out.toString();
  }

  /** One rule as nft writes it, e.g. {@code oifname "mw0" ip saddr ... snat ip prefix to ... comment "peer=b"}. */
  public static String rule(NatRule rule) {
    String p = rule.family().nft();
    return switch (rule) {
      case NatRule.Snat s -> "oifname \"" + s.ifName() + "\" " + p + " saddr " + s.saddr() + " " + p + " daddr "
          + s.daddr() + " snat " + p + " prefix to " + s.to() + " comment \"" + COMMENT_PREFIX + s.peer() + "\"";
      case NatRule.Dnat d -> "iifname \"" + d.ifName() + "\" " + p + " saddr " + d.saddr() + " " + p + " daddr "
          + d.daddr() + " dnat " + p + " prefix to " + d.to() + " comment \"" + COMMENT_PREFIX + d.peer() + "\"";
    };
  }

  /**
   * Reads the output of {@code nft -j list table FAMILY TABLE}. Chains and rules that are not
   * exactly what {@link #script} writes are listed in {@link NatTable#foreign()}.
   *
   * @throws IllegalArgumentException if the output is not nft's JSON
   */
  public static NatTable parse(NatFamily family, String json) {
    JsonArray items;
    try {
      items = JsonParser.parseString(json).getAsJsonObject().getAsJsonArray("nftables");
    } catch (JsonParseException | IllegalStateException | ClassCastException | NullPointerException e) {
      throw new IllegalArgumentException("nft -j output: not an nftables document: " + e.getMessage(), e);
    }
    if (items == null) {
      throw new IllegalArgumentException("nft -j output: no \"nftables\" array");
    }
    boolean present = false;
    List<NatRule> rules = new ArrayList<>();
    List<String> foreign = new ArrayList<>();
    List<String> chains = new ArrayList<>();
    for (JsonElement item : items) {
      JsonObject o = item.getAsJsonObject();
      if (o.has("table")) {
        present = true;
      } else if (o.has("chain")) {
        JsonObject c = o.getAsJsonObject("chain");
        String name = string(c, "name").orElse("");
        chains.add(name);
        if (!chainAsWritten(c)) {
          foreign.add("chain " + c);
        }
      } else if (o.has("rule")) {
        JsonObject r = o.getAsJsonObject("rule");
        Optional<NatRule> parsed = parseRule(family, r);
        if (parsed.isPresent()) {
          rules.add(parsed.get());
        } else {
          foreign.add("rule " + r);
        }
      } else if (!o.has("metainfo")) {
        foreign.add("object " + o);
      }
    }
    if (present && !(chains.contains("prerouting") && chains.contains("postrouting"))) {
      foreign.add("chains " + chains + " instead of [prerouting, postrouting]");
    }
    return new NatTable(family, present, rules, foreign);
  }

  private static boolean chainAsWritten(JsonObject c) {
    String name = string(c, "name").orElse("");
    int prio = c.has("prio") && c.get("prio").isJsonPrimitive() ? c.get("prio").getAsInt() : Integer.MIN_VALUE;
    return (name.equals("prerouting") || name.equals("postrouting"))
        && string(c, "type").equals(Optional.of("nat"))
        && string(c, "hook").equals(Optional.of(name))
        && prio == (name.equals("prerouting") ? -100 : 100)
        && string(c, "policy").equals(Optional.of("accept"));
  }

  /** A rule exactly as {@link #rule} writes it, or empty. */
  private static Optional<NatRule> parseRule(NatFamily family, JsonObject r) {
    try {
      String chain = string(r, "chain").orElse("");
      Optional<String> comment = string(r, "comment").filter(s -> s.startsWith(COMMENT_PREFIX));
      JsonArray expr = r.getAsJsonArray("expr");
      if (comment.isEmpty() || expr == null || expr.size() != 4) {
        return Optional.empty();
      }
      String peer = comment.get().substring(COMMENT_PREFIX.length());
      boolean dnat = chain.equals("prerouting");
      if (!dnat && !chain.equals("postrouting")) {
        return Optional.empty();
      }
      Optional<String> ifName = metaMatch(expr.get(0).getAsJsonObject(), dnat ? "iifname" : "oifname");
      Optional<Cidr> saddr = addressMatch(family, expr.get(1).getAsJsonObject(), "saddr");
      Optional<Cidr> daddr = addressMatch(family, expr.get(2).getAsJsonObject(), "daddr");
      Optional<Cidr> to = netmap(family, expr.get(3).getAsJsonObject(), dnat ? "dnat" : "snat");
      if (ifName.isEmpty() || saddr.isEmpty() || daddr.isEmpty() || to.isEmpty()) {
        return Optional.empty();
      }
      return Optional.of(dnat
          ? new NatRule.Dnat(peer, ifName.get(), saddr.get(), daddr.get(), to.get())
          : new NatRule.Snat(peer, ifName.get(), saddr.get(), daddr.get(), to.get()));
    } catch (RuntimeException e) {
      return Optional.empty(); // any shape we do not write (or a rule that fails NatRule's checks)
    }
  }

  private static Optional<String> metaMatch(JsonObject e, String key) {
    JsonObject match = e.getAsJsonObject("match");
    if (match == null || !string(match, "op").equals(Optional.of("=="))) {
      return Optional.empty();
    }
    JsonObject meta = match.getAsJsonObject("left").getAsJsonObject("meta");
    if (meta == null || !string(meta, "key").equals(Optional.of(key))) {
      return Optional.empty();
    }
    return string(match, "right");
  }

  private static Optional<Cidr> addressMatch(NatFamily family, JsonObject e, String field) {
    JsonObject match = e.getAsJsonObject("match");
    if (match == null || !string(match, "op").equals(Optional.of("=="))) {
      return Optional.empty();
    }
    JsonObject payload = match.getAsJsonObject("left").getAsJsonObject("payload");
    if (payload == null || !string(payload, "protocol").equals(Optional.of(family.nft()))
        || !string(payload, "field").equals(Optional.of(field))) {
      return Optional.empty();
    }
    return prefix(family, match.get("right"));
  }

  private static Optional<Cidr> netmap(NatFamily family, JsonObject e, String kind) {
    JsonObject nat = e.getAsJsonObject(kind);
    if (nat == null || !flagged(nat.get("flags"), "netmap")) {
      return Optional.empty();
    }
    return prefix(family, nat.get("addr"));
  }

  /** {@code "10.0.0.1"} (a single address) or {@code {"prefix": {"addr": "10.0.0.0", "len": 16}}}. */
  private static Optional<Cidr> prefix(NatFamily family, JsonElement e) {
    Cidr cidr;
    if (e.isJsonPrimitive()) {
      cidr = Cidr.host(Cidr.parseAddress(e.getAsString()));
    } else {
      JsonObject p = e.getAsJsonObject().getAsJsonObject("prefix");
      cidr = Cidr.parse(p.get("addr").getAsString() + "/" + p.get("len").getAsInt());
    }
    return NatFamily.of(cidr) == family ? Optional.of(cidr) : Optional.empty();
  }

  private static boolean flagged(JsonElement flags, String flag) {
    if (flags == null) {
      return false;
    }
    if (flags.isJsonArray()) {
      for (JsonElement f : flags.getAsJsonArray()) {
        if (f.getAsString().equals(flag)) {
          return true;
        }
      }
      return false;
    }
    return flags.getAsString().equals(flag);
  }

  private static Optional<String> string(JsonObject o, String key) {
    JsonElement e = o.get(key);
    return e != null && e.isJsonPrimitive() ? Optional.of(e.getAsString()) : Optional.empty();
  }
}
