package io.meshwire.hub.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.hub.policy.Selector.Operator;
import io.meshwire.hub.policy.Selector.Requirement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Properties of the peering rule against a plain restatement of it, and of deltas. */
class PeeringProperties {

  private static final List<String> CLUSTERS = List.of("c0", "c1", "c2", "c3", "c4", "c5");

  @Property(tries = 200)
  void decisionEqualsTheRuleAsWrittenAndIsSymmetric(@ForAll("rules") PeeringRules rules,
      @ForAll PeeringDefault fallback) {
    Peering peering = new Peering(rules, fallback);
    for (String a : CLUSTERS) {
      for (String b : CLUSTERS) {
        assertEquals(oracle(rules, fallback, a, b), peering.decide(a, b), a + " " + b);
        assertEquals(peering.decide(a, b), peering.decide(b, a));
      }
    }
  }

  @Property(tries = 200)
  void deltasTurnTheOldPeerSetsIntoTheNewOnes(@ForAll("rules") PeeringRules before,
      @ForAll("rules") PeeringRules after, @ForAll PeeringDefault fallback) {
    Peering was = new Peering(before, fallback);
    Peering now = new Peering(after, fallback);
    List<String> membersBefore = CLUSTERS.subList(0, 5);
    List<String> membersAfter = CLUSTERS.subList(1, 6);
    Map<String, PeerDelta> deltas = PeerDelta.between(was, membersBefore, now, membersAfter);
    for (String a : membersAfter) {
      Map<String, PeeringMode> peers = new HashMap<>(membersBefore.contains(a) ? was.peersOf(a, membersBefore) : Map.of());
      PeerDelta d = deltas.getOrDefault(a, new PeerDelta(Map.of(), Set.of()));
      d.lost().forEach(peers::remove);
      peers.putAll(d.gained());
      assertEquals(now.peersOf(a, membersAfter), peers, a);
    }
  }

  @Property(tries = 200)
  void aRelabelDeltaEqualsTheFullComparison(@ForAll("rules") PeeringRules rules, @ForAll PeeringDefault fallback,
      @ForAll("labelSets") Map<String, String> labels) {
    Peering before = new Peering(rules, fallback);
    Peering after = before.with(new PeeringChange.SetLabels("c2", labels));
    assertEquals(PeerDelta.between(before, CLUSTERS, after, CLUSTERS),
        PeerDelta.ofRelabel(before, after, CLUSTERS, "c2"));
  }

  @Property(tries = 500)
  void theDeltasOfAChangeEqualTheFullComparison(@ForAll("rules") PeeringRules rules, @ForAll PeeringDefault fallback,
      @ForAll("changes") PeeringChange change) {
    Peering before = new Peering(rules, fallback);
    if (change instanceof PeeringChange.DeletePolicy d && !rules.policies().containsKey(d.name())) {
      return; // the log refuses deleting an unknown policy
    }
    Peering after = before.with(change);
    List<String> members = CLUSTERS.subList(0, 5); // c5 may be labelled or named without being a member
    assertEquals(PeerDelta.between(before, members, after, members), PeerDelta.of(before, after, members));
  }

  @Property(tries = 200)
  void theDeltasOfAnyTwoRuleSetsEqualTheFullComparison(@ForAll("rules") PeeringRules before,
      @ForAll("rules") PeeringRules after, @ForAll PeeringDefault was, @ForAll PeeringDefault now) {
    List<String> members = CLUSTERS.subList(0, 5);
    assertEquals(PeerDelta.between(new Peering(before, was), members, new Peering(after, now), members),
        PeerDelta.of(new Peering(before, was), new Peering(after, now), members));
  }

  @Provide
  Arbitrary<PeeringChange> changes() {
    Arbitrary<String> names = Arbitraries.of("p0", "p1", "p2", "p3", "p9");
    return Arbitraries.oneOf(
        Combinators.combine(names, policies()).as((n, p) ->
            new PeeringChange.ApplyPolicy(new PeeringPolicy(n, p.clusters(), p.peers(), p.mode()))),
        names.map(PeeringChange.DeletePolicy::new),
        Combinators.combine(Arbitraries.of(CLUSTERS), labelSets()).as(PeeringChange.SetLabels::new));
  }

  @Provide
  Arbitrary<Map<String, String>> labelSets() {
    return Arbitraries.maps(Arbitraries.of("env", "team", "zone"), Arbitraries.of("a", "b", "")).ofMaxSize(3);
  }

  @Property(tries = 200)
  void aDenyPolicyNeverAddsAPair(@ForAll("rules") PeeringRules rules, @ForAll("policies") PeeringPolicy extra,
      @ForAll PeeringDefault fallback) {
    Peering before = new Peering(rules, fallback);
    Peering after = before.with(new PeeringChange.ApplyPolicy(new PeeringPolicy("extra-deny", extra.clusters(),
        extra.peers(), PeeringMode.DENY)));
    for (String a : CLUSTERS) {
      assertTrue(before.peersOf(a, CLUSTERS).keySet().containsAll(after.peersOf(a, CLUSTERS).keySet()));
    }
  }

  /** The rule as the class Javadoc states it, one policy at a time. */
  private static PeeringMode oracle(PeeringRules rules, PeeringDefault fallback, String a, String b) {
    if (a.equals(b)) {
      return PeeringMode.DENY;
    }
    Map<String, String> la = rules.labelsOf(a);
    Map<String, String> lb = rules.labelsOf(b);
    boolean deny = false;
    boolean relay = false;
    boolean aToB = false;
    boolean bToA = false;
    boolean aSpokenFor = false;
    boolean bSpokenFor = false;
    for (PeeringPolicy p : rules.policies().values()) {
      boolean ab = p.clusters().matches(a, la) && p.peers().matches(b, lb);
      boolean ba = p.clusters().matches(b, lb) && p.peers().matches(a, la);
      if (p.mode() == PeeringMode.DENY) {
        deny |= ab || ba;
        continue;
      }
      aSpokenFor |= p.clusters().matches(a, la);
      bSpokenFor |= p.clusters().matches(b, lb);
      aToB |= ab;
      bToA |= ba;
      relay |= (ab || ba) && p.mode() == PeeringMode.RELAY_ONLY;
    }
    boolean byDefault = fallback == PeeringDefault.ALLOW;
    aToB |= byDefault && !aSpokenFor;
    bToA |= byDefault && !bSpokenFor;
    if (deny || !aToB || !bToA) {
      return PeeringMode.DENY;
    }
    return relay ? PeeringMode.RELAY_ONLY : PeeringMode.DIRECT;
  }

  @Provide
  Arbitrary<PeeringRules> rules() {
    Arbitrary<Map<String, String>> labelSets = Arbitraries.maps(Arbitraries.of("env", "team", "zone"),
        Arbitraries.of("a", "b", "")).ofMaxSize(3);
    Arbitrary<Map<String, Map<String, String>>> labels = Arbitraries.maps(Arbitraries.of(CLUSTERS), labelSets)
        .ofMaxSize(CLUSTERS.size());
    Arbitrary<List<PeeringPolicy>> policies = policies().list().ofMaxSize(5);
    return Combinators.combine(labels, policies).as((ls, ps) -> {
      PeeringRules r = PeeringRules.EMPTY;
      for (var e : ls.entrySet()) {
        r = r.withLabels(e.getKey(), e.getValue());
      }
      int i = 0;
      for (PeeringPolicy p : ps) {
        r = r.withPolicy(new PeeringPolicy("p" + i++, p.clusters(), p.peers(), p.mode()));
      }
      return r;
    });
  }

  @Provide
  Arbitrary<PeeringPolicy> policies() {
    return Combinators.combine(selectors(), selectors(), Arbitraries.of(PeeringMode.class))
        .as((c, p, m) -> new PeeringPolicy("p", c, p, m));
  }

  private Arbitrary<Selector> selectors() {
    Arbitrary<Set<String>> names = Arbitraries.of(CLUSTERS).set().ofMaxSize(2);
    Arbitrary<Map<String, String>> matchLabels = Arbitraries.maps(Arbitraries.of("env", "team"),
        Arbitraries.of("a", "b")).ofMaxSize(1);
    Arbitrary<Requirement> requirement = Combinators.combine(Arbitraries.of("env", "team", "zone"),
        Arbitraries.of(Operator.class), Arbitraries.of("a", "b").list().ofMinSize(1).ofMaxSize(2))
        .as((k, op, vs) -> new Requirement(k, op,
            op == Operator.EXISTS || op == Operator.DOES_NOT_EXIST ? List.of() : vs));
    return Combinators.combine(names, matchLabels, requirement.list().ofMaxSize(2))
        .as(Selector::new);
  }
}
