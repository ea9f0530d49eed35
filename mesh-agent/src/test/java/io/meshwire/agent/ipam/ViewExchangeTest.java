package io.meshwire.agent.ipam;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.agent.hub.HubClient;
import io.meshwire.agent.state.AgentState;
import io.meshwire.agent.state.StateFile;
import io.meshwire.agent.state.TestStates;
import io.meshwire.agent.state.View;
import io.meshwire.agent.sync.MeshSync;
import io.meshwire.hub.HubFixture;
import io.meshwire.netaddr.Backoff;
import io.meshwire.netaddr.Cidr;
import io.meshwire.netaddr.HostPort;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Views through a real hub (TLS, store, watch fan-out on 127.0.0.1): two clusters on the same pod
 * CIDR decide how they see each other, publish, and each receives the other's view of itself;
 * after a restart from the state file the views are published again and the hub takes them.
 */
class ViewExchangeTest {

  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final List<Cidr> PODS = List.of(Cidr.parse("10.244.0.0/16"));

  @TempDir Path dir;
  private HubFixture hub;
  private final List<AutoCloseable> cleanup = new ArrayList<>();

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : cleanup.reversed()) {
      c.close();
    }
    if (hub != null) {
      hub.close();
    }
  }

  /** One cluster's agent, as far as views go: sync, IPAM, publisher, over a real hub client. */
  private final class Cluster {
    final String id;
    final HubClient client;
    final StateFile file;
    final MeshSync sync;
    final ViewDecisions decisions;
    final ViewPublisher publisher;

    Cluster(String id, HubClient client, AgentState initial, List<Cidr> pools) {
      this.id = id;
      this.client = client;
      this.file = new StateFile(dir.resolve(id).resolve("state.bin"), InstantSource.system());
      this.sync = new MeshSync(id, initial, file, false, s -> {}, v -> ViewChecks.problemAsViewOfMe(v, PODS));
      this.publisher = new ViewPublisher(sync, () -> Optional.of(client::publishViews), InstantSource.system(),
          Executors.newSingleThreadScheduledExecutor(), Backoff.defaults(), new SimpleMeterRegistry());
      this.decisions = new ViewDecisions(id, new IpamSettings(PODS, List.of(), List.of(), pools), sync,
          InstantSource.system(), new SimpleMeterRegistry(), publisher::trigger);
      cleanup.add(publisher);
      AgentState s = sync.state();
      CompletableFuture<HubClient.WatchEnd> end = client.watch(s.revision(), s.meshUid(), sync);
      cleanup.add(() -> end.cancel(true));
    }

    AgentState persisted() throws IOException {
      return assertInstanceOf(StateFile.Loaded.Found.class, file.load()).state();
    }
  }

  private HubClient joined(String id, int n) {
    HubClient c = new HubClient(List.of(new HostPort("127.0.0.1", hub.port())), hub.enroll(id), InstantSource.system());
    cleanup.add(c);
    c.announce(HubFixture.record(id, n, 1).toBuilder().clearPodCidrs().addPodCidrs("10.244.0.0/16").build());
    return c;
  }

  @Test
  void overlappingClustersLearnHowTheOtherSeesThemAndRepublishAfterARestart() throws Exception {
    hub = new HubFixture(dir.resolve("hub"), Map.of());
    HubClient eastClient = joined("east", 1);
    HubClient westClient = joined("west", 2);
    Cluster east = new Cluster("east", eastClient, AgentState.initial(TestStates.key(0x71)),
        List.of(Cidr.parse("172.16.0.0/12")));
    Cluster west = new Cluster("west", westClient, AgentState.initial(TestStates.key(0x72)), IpamSettings.DEFAULT_POOLS);
    await().atMost(WAIT).until(() -> east.sync.caughtUp() && west.sync.caughtUp()
        && east.sync.state().peers().containsKey("west") && west.sync.state().peers().containsKey("east"));

    // Each decides (a reconcile pass would) and the change triggers publishing.
    east.decisions.decide();
    west.decisions.decide();

    await().atMost(WAIT).until(() -> west.sync.state().viewsOfMe().containsKey("east")
        && east.sync.state().viewsOfMe().containsKey("west"));
    View eastSeesWest = west.sync.state().viewsOfMe().get("east");
    assertEquals(Cidr.parse("172.16.0.0/16"), eastSeesWest.seenAs(PODS.get(0)));
    assertEquals(Cidr.parse("10.0.0.0/16"), east.sync.state().viewsOfMe().get("west").seenAs(PODS.get(0)));
    assertEquals(east.sync.state().myViews().get("west"), eastSeesWest, "the generation sent is the one persisted");
    assertEquals(0, east.sync.rejectedViews() + west.sync.rejectedViews());

    // East restarts from its file: same decision, published again with a greater generation.
    AgentState saved = east.persisted();
    Cluster restarted = new Cluster("east", eastClient, saved, List.of(Cidr.parse("172.16.0.0/12")));
    restarted.decisions.decide();
    ViewPublisher.Round round = restarted.publisher.publishNow();

    assertEquals(1, round.published().size(), round.toString());
    assertTrue(round.published().get(0).generation() > eastSeesWest.generation());
    await().atMost(WAIT).until(() ->
        west.sync.state().viewsOfMe().get("east").generation() == round.published().get(0).generation());
    assertEquals(eastSeesWest.mappings(), west.sync.state().viewsOfMe().get("east").mappings());
  }
}
