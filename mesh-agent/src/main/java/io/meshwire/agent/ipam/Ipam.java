package io.meshwire.agent.ipam;

import io.meshwire.agent.state.PeerRecord;
import io.meshwire.agent.state.View;
import io.meshwire.netaddr.Cidr;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * {@code Ipam} decides how this cluster sees each peer's pod CIDRs: as themselves where they
 * overlap nothing here, else as a block of the same size from the remap pools. Pure and
 * stateless: the previous decisions come in ({@code existing}, the persisted {@code myViews}) and
 * the new ones go out, so no hub is needed to decide and a restart decides the same.
 *
 * <p>Rules, in the order they are applied:
 *
 * <ol>
 *   <li><b>Keep</b> what was decided while it is still valid: the seen-as block has the size and
 *       family of the original, overlaps nothing local (own pod and service CIDRs, reserved
 *       ranges) and nothing kept before it, and a remapped block still lies in a pool. A peer
 *       that left has no record and so loses its view: its blocks are free again.
 *   <li><b>Seen as itself</b>: each CIDR not decided yet keeps its own address range if that
 *       overlaps nothing local and no other peer's seen-as range.
 *   <li><b>Remap</b> the rest: the lowest free aligned block of the same size in the first pool
 *       of the same family that has one. In use: everything local and every seen-as range
 *       (including peers' CIDRs that are seen as themselves).
 *   <li><b>Exhausted</b>: a peer with a CIDR that fits nowhere gets no view at all (its other
 *       blocks are released) and a {@link PeerDecision.Exhausted} naming the CIDR and what it
 *       overlaps. The other peers are not affected.
 * </ol>
 *
 * <p>Peers are handled in cluster-ID order within each step, so decisions are deterministic. A
 * view that did not change is returned as the same value (same generation); a changed or new one
 * gets generation {@code max(old + 1, nowMillis)}, which only grows per subject.
 */
final class Ipam {

  private Ipam() {}

  /** A range that is taken: by a peer's view ({@code peer} set) or locally; {@code owner} is for messages. */
  record Claim(Cidr range, String peer, String owner) {}

  /**
   * Decides the views of all {@code peers}.
   *
   * @param self this cluster's ID, the observer of every view
   * @param peers every peer by ID (this cluster itself is ignored if present)
   * @param existing the views decided before, by subject
   * @param nowMillis the clock, for generations of changed views
   */
  public static Allocation allocate(IpamSettings settings, String self, Map<String, PeerRecord> peers,
      Map<String, View> existing, long nowMillis) {
    List<Claim> local = new ArrayList<>();
    settings.ownPodCidrs().forEach(c -> local.add(new Claim(c, "", "own pod CIDR " + c)));
    settings.ownServiceCidrs().forEach(c -> local.add(new Claim(c, "", "own service CIDR " + c)));
    settings.reserved().forEach(c -> local.add(new Claim(c, "", "reserved range " + c)));

    Map<String, List<Cidr>> cidrs = new TreeMap<>();
    peers.forEach((id, record) -> {
      if (!id.equals(self)) {
        cidrs.put(id, record.podCidrs().stream().distinct().toList());
      }
    });
    Map<String, Map<Cidr, Cidr>> chosen = new HashMap<>();
    cidrs.keySet().forEach(id -> chosen.put(id, new LinkedHashMap<>()));
    List<Claim> claims = new ArrayList<>();

    // 1. Keep valid decisions.
    cidrs.forEach((id, own) -> {
      View before = existing.get(id);
      if (before == null) {
        return;
      }
      for (View.Mapping m : before.mappings()) {
        if (!own.contains(m.original()) || chosen.get(id).containsKey(m.original())) {
          continue; // the peer no longer has that CIDR
        }
        boolean identity = m.original().equals(m.seenAs());
        boolean valid = sameSize(m.original(), m.seenAs())
            && firstOverlap(m.seenAs(), local).isEmpty()
            && firstOverlap(m.seenAs(), claims).isEmpty()
            && (identity || settings.pools().stream().anyMatch(p -> p.contains(m.seenAs())));
        if (valid) {
          chosen.get(id).put(m.original(), m.seenAs());
          claims.add(new Claim(m.seenAs(), id, "peer " + id + (identity ? "" : " (seen as " + m.seenAs() + ")")));
        }
      }
    });

    // 2. Seen as itself where nothing is in the way.
    cidrs.forEach((id, own) -> {
      for (Cidr c : own) {
        if (!chosen.get(id).containsKey(c) && firstOverlap(c, local).isEmpty() && firstOverlap(c, claims).isEmpty()) {
          chosen.get(id).put(c, c);
          claims.add(new Claim(c, id, "peer " + id));
        }
      }
    });

    // 3. Remap the rest from the pools; 4. a peer that does not fit is left out.
    Map<String, PeerDecision> decisions = new TreeMap<>();
    cidrs.forEach((id, own) -> {
      for (Cidr c : own) {
        if (chosen.get(id).containsKey(c)) {
          continue;
        }
        List<Claim> taken = new ArrayList<>(local);
        taken.addAll(claims);
        Optional<Cidr> block = settings.pools().stream()
            .filter(p -> p.isIpv4() == c.isIpv4())
            .map(p -> freeBlock(p, c.prefixLength(), taken))
            .flatMap(Optional::stream)
            .findFirst();
        if (block.isEmpty()) {
          String conflict = firstOverlap(c, local).or(() -> firstOverlap(c, claims)).map(Claim::owner).orElse("?");
          boolean anyPool = settings.pools().stream().anyMatch(p -> p.isIpv4() == c.isIpv4());
          decisions.put(id, new PeerDecision.Exhausted("pod CIDR " + c + " overlaps " + conflict + " and "
              + (anyPool ? "remap-pools have no free /" + c.prefixLength() + " block"
                  : "remap-pools have no " + (c.isIpv4() ? "IPv4" : "IPv6") + " range")));
          claims.removeIf(claim -> claim.peer().equals(id));
          chosen.get(id).clear();
          return;
        }
        chosen.get(id).put(c, block.get());
        claims.add(new Claim(block.get(), id, "peer " + id + " (seen as " + block.get() + ")"));
      }
    });

    Map<String, View> views = new TreeMap<>();
    cidrs.forEach((id, own) -> {
      if (decisions.containsKey(id)) {
        return;
      }
      List<View.Mapping> mappings = own.stream().map(c -> new View.Mapping(c, chosen.get(id).get(c))).toList();
      View before = existing.get(id);
      View view;
      if (before != null && before.observerClusterId().equals(self) && before.mappings().equals(mappings)) {
        view = before;
      } else {
        long generation = Math.max(before == null ? 1 : before.generation() + 1, nowMillis);
        view = new View(self, id, mappings, generation);
      }
      views.put(id, view);
      boolean remapped = mappings.stream().anyMatch(m -> !m.original().equals(m.seenAs()));
      decisions.put(id, remapped ? new PeerDecision.Remapped(mappings) : new PeerDecision.SeenAsItself());
    });
    return new Allocation(views, decisions);
  }

  /** Whether {@code view} remaps at least one CIDR (an all-identity view needs no NAT and no publishing). */
  public static boolean remaps(View view) {
    return view.mappings().stream().anyMatch(m -> !m.original().equals(m.seenAs()));
  }

  private static boolean sameSize(Cidr a, Cidr b) {
    return a.isIpv4() == b.isIpv4() && a.prefixLength() == b.prefixLength();
  }

  private static Optional<Claim> firstOverlap(Cidr range, List<Claim> claims) {
    return claims.stream().filter(c -> c.range().overlaps(range)).findFirst();
  }

  /**
   * The lowest aligned block of {@code prefixLength} bits in {@code pool} that overlaps nothing in
   * {@code taken}. One sweep over the taken ranges sorted by start (merged where they overlap), so
   * the cost is O(n log n) in the number of taken ranges.
   */
  static Optional<Cidr> freeBlock(Cidr pool, int prefixLength, List<Claim> taken) {
    if (prefixLength < pool.prefixLength() || prefixLength > pool.addressBits()) {
      return Optional.empty();
    }
    BigInteger size = BigInteger.ONE.shiftLeft(pool.addressBits() - prefixLength);
    BigInteger end = pool.end();
    List<Cidr> inPool = taken.stream().map(Claim::range).filter(r -> r.isIpv4() == pool.isIpv4() && r.overlaps(pool))
        .sorted(Comparator.comparing(Cidr::first)).toList();
    BigInteger candidate = pool.first();
    for (Cidr range : inPool) {
      if (candidate.add(size).compareTo(range.first()) <= 0) {
        break; // the gap before this range holds the block
      }
      if (range.end().compareTo(candidate) > 0) {
        candidate = alignUp(range.end(), size);
      }
    }
    if (candidate.add(size).compareTo(end) > 0) {
      return Optional.empty();
    }
    return Optional.of(Cidr.of(candidate, prefixLength, pool.isIpv4()));
  }

  private static BigInteger alignUp(BigInteger value, BigInteger size) {
    BigInteger[] qr = value.divideAndRemainder(size);
    return qr[1].signum() == 0 ? value : qr[0].add(BigInteger.ONE).multiply(size);
  }
}
