package io.meshwire.agent.ipam;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.meshwire.agent.state.AgentState;
import io.meshwire.agent.state.PeerRecord;
import io.meshwire.agent.state.StateFile;
import io.meshwire.agent.state.TestStates;
import io.meshwire.agent.state.View;
import io.meshwire.agent.sync.MeshSync;
import io.meshwire.netaddr.Backoff;
import io.meshwire.netaddr.Cidr;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Publishing the IPAM's views to the hub: what is sent, when, with which generation, and retries. */
class ViewPublisherTest {

  private static final String SELF = "east";
  private static final long NOW = 1_750_000_000_000L;

  @TempDir Path dir;
  private MeshSync sync;
  private final List<Call> calls = new ArrayList<>();
  private final AtomicBoolean connected = new AtomicBoolean(true);
  private volatile RuntimeException failNext;
  private ScheduledExecutorService executor;
  private ViewPublisher publisher;

  private record Call(List<View> views, List<String> withdrawn) {}

  private static PeerRecord peer(String id, int n, String podCidr) {
    PeerRecord base = TestStates.peer(id, n);
    return new PeerRecord(id, base.wireguardPublicKey(), 51820, base.gatewayEndpoints(),
        List.of(Cidr.parse(podCidr)), List.of(), Optional.empty(), Map.of(), 1, 1);
  }

  private static View view(String subject, String original, String seenAs, long generation) {
    return new View(SELF, subject, List.of(new View.Mapping(Cidr.parse(original), Cidr.parse(seenAs))), generation);
  }

  private synchronized long hubCall(List<View> views, List<String> withdrawn) {
    RuntimeException f = failNext;
    if (f != null) {
      failNext = null;
      throw f;
    }
    calls.add(new Call(List.copyOf(views), List.copyOf(withdrawn)));
    return calls.size();
  }

  @BeforeEach
  void setUp() {
    AgentState initial = TestStates.state("m", 5, peer("west", 2, "10.244.0.0/16"), peer("north", 3, "10.7.0.0/16"),
        peer("south", 4, "10.244.0.0/16"))
        .withMyViews(Map.of(
            "west", view("west", "10.244.0.0/16", "10.1.0.0/16", 3),
            "north", view("north", "10.7.0.0/16", "10.7.0.0/16", 3),
            "south", view("south", "10.244.0.0/16", "10.0.0.0/16", 3)));
    InstantSource clock = InstantSource.fixed(Instant.ofEpochMilli(NOW));
    sync = new MeshSync(SELF, initial, new StateFile(dir.resolve("state.bin"), clock), false, s -> {});
    executor = Executors.newSingleThreadScheduledExecutor();
    publisher = new ViewPublisher(sync,
        () -> connected.get() ? Optional.of((ViewPublisher.Hub) this::hubCall) : Optional.empty(), clock, executor,
        new Backoff(Duration.ofMillis(10), Duration.ofMillis(50), RandomGenerator.getDefault()),
        new SimpleMeterRegistry());
  }

  @AfterEach
  void tearDown() {
    publisher.close();
  }

  @Test
  void firstRoundSendsRemappedViewsWithFreshGenerationsAndWithdrawsTheRest() {
    ViewPublisher.Round round = publisher.publishNow();

    assertEquals(1, calls.size());
    assertEquals(List.of("south", "west"), calls.get(0).views().stream().map(View::subjectClusterId).toList());
    assertEquals(List.of("north"), calls.get(0).withdrawn());
    calls.get(0).views().forEach(v -> assertEquals(NOW, v.generation()));
    assertEquals(sync.state().myViews().get("west"), calls.get(0).views().get(1), "the sent generation is persisted");
    assertEquals(List.of("north"), round.withdrawn());

    assertEquals(ViewPublisher.Round.NOTHING, publisher.publishNow(), "all acknowledged: nothing to send");
    assertEquals(1, calls.size());
  }

  @Test
  void aChangedDecisionIsSentAloneAndADepartedPeerWithdrawn() {
    publisher.publishNow();
    sync.update(s -> {
      Map<String, View> views = new java.util.HashMap<>(s.myViews());
      views.put("west", view("west", "10.244.0.0/16", "10.2.0.0/16", NOW + 5));
      return s.withMyViews(views);
    });
    sync.hello("m", 6, false);
    sync.removed(6, "south", false);

    publisher.publishNow();

    Call last = calls.get(calls.size() - 1);
    assertEquals(List.of(Cidr.parse("10.2.0.0/16")), last.views().stream()
        .map(v -> v.mappings().get(0).seenAs()).toList());
    assertEquals(NOW + 6, last.views().get(0).generation(), "greater than the decision's own");
    assertEquals(List.of("south"), last.withdrawn());
  }

  @Test
  void aViewNowSeenAsItselfIsWithdrawn() {
    publisher.publishNow();
    sync.update(s -> {
      Map<String, View> views = new java.util.HashMap<>(s.myViews());
      views.put("west", view("west", "10.244.0.0/16", "10.244.0.0/16", NOW + 5));
      return s.withMyViews(views);
    });

    publisher.publishNow();

    assertEquals(new Call(List.of(), List.of("west")), calls.get(calls.size() - 1));
  }

  @Test
  void withoutAHubSessionNothingIsSentAndTheNextSessionSendsIt() {
    connected.set(false);
    assertEquals(ViewPublisher.Round.NOTHING, publisher.publishNow());
    assertEquals(List.of(), calls);

    connected.set(true);
    publisher.trigger();
    await().atMost(Duration.ofSeconds(5)).until(() -> calls.size() == 1);
  }

  @Test
  void aFailedCallIsRetriedWithBackoff() {
    failNext = Status.UNAVAILABLE.withDescription("hub restarting").asRuntimeException();

    publisher.trigger();

    await().atMost(Duration.ofSeconds(5)).until(() -> calls.size() == 1);
    assertEquals(2, calls.get(0).views().size());
  }

  @Test
  void aRefusedBatchIsSentOneByOne() {
    failNext = Status.FAILED_PRECONDITION.withDescription("views[0].subject_cluster_id: \"south\" is not a member")
        .asRuntimeException();

    ViewPublisher.Round round = publisher.publishNow();

    // south and west one by one, then the withdrawals.
    assertEquals(3, calls.size());
    assertEquals(2, round.published().size());
    assertTrue(round.refused().isEmpty());
    assertEquals(List.of("north"), calls.get(2).withdrawn());
  }

  @Test
  void largeMeshesAreSentInChunksTheHubAccepts() {
    Map<String, PeerRecord> peers = new java.util.TreeMap<>();
    Map<String, View> views = new java.util.TreeMap<>();
    for (int i = 0; i < 300; i++) {
      String id = String.format("p%03d", i);
      peers.put(id, peer(id, 2, "10.244.0.0/16"));
      views.put(id, view(id, "10.244.0.0/16", "10.1.0.0/16", 1)); // the publisher does not judge the blocks
    }
    sync.update(s -> s.withPeers(peers).withMyViews(views));

    publisher.publishNow();

    assertEquals(2, calls.size());
    assertEquals(ViewPublisher.MAX_PER_CALL, calls.get(0).views().size());
    assertEquals(300 - ViewPublisher.MAX_PER_CALL, calls.get(1).views().size());
  }
}
