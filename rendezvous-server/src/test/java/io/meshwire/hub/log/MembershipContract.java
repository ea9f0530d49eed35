package io.meshwire.hub.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.hub.HubFixture;
import io.meshwire.hub.membership.ClusterRecord;
import io.meshwire.hub.membership.MembershipEvent;
import io.meshwire.hub.membership.MembershipEvent.ClusterRemoved;
import io.meshwire.hub.membership.MembershipEvent.ClusterUpserted;
import io.meshwire.hub.membership.MembershipEvent.RemovalReason;
import io.meshwire.hub.membership.MembershipEvent.ViewRemoved;
import io.meshwire.hub.membership.MembershipEvent.ViewUpdated;
import io.meshwire.hub.membership.PeerView;
import io.meshwire.hub.membership.Rejection;
import io.meshwire.hub.wire.ProtoMapper;
import io.meshwire.netaddr.Cidr;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code MembershipContract}: what every {@link Membership} does, whatever keeps it (the file log,
 * etcd). Subclasses say how to open a fresh, empty one.
 */
public abstract class MembershipContract {

  protected Membership membership;

  /** A fresh, empty membership; closed after each test. */
  protected abstract Membership open() throws Exception;

  @BeforeEach
  void openMembership() throws Exception {
    membership = open();
  }

  @AfterEach
  void closeMembership() {
    if (membership != null) {
      membership.close();
    }
  }

  protected static ClusterRecord record(String id, int n, long generation) throws Rejection {
    return ProtoMapper.fromProto(io.meshwire.validation.WireValidator.defaults(), HubFixture.record(id, n, generation), id);
  }

  protected static PeerView view(String observer, String subject, long generation) {
    return new PeerView(observer, subject,
        List.of(new PeerView.Mapping(Cidr.parse("10.2.0.0/16"), Cidr.parse("172.16.0.0/16"))), generation);
  }

  protected long upsert(String id, int n, long generation) throws Exception {
    return membership.upsert(record(id, n, generation)).get(10, TimeUnit.SECONDS);
  }

  @Test
  void aWireGuardKeyHeldByAnotherClusterIsAlreadyExistsAndChangesNothing() throws Exception {
    upsert("east", 1, 1);
    long before = membership.durableRevision();
    ClusterRecord copied = ProtoMapper.fromProto(io.meshwire.validation.WireValidator.defaults(),
        HubFixture.record("west", 2, 1).toBuilder()
            .setWireguardPublicKey(HubFixture.record("east", 1, 1).getWireguardPublicKey()).build(), "west");
    Rejection refused = assertThrows(Rejection.class, () -> membership.upsert(copied));
    assertEquals(Rejection.Kind.ALREADY_EXISTS, refused.kind());
    assertTrue(refused.getMessage().contains("already held by cluster \"east\""), refused.getMessage());
    assertEquals(before, membership.durableRevision());
    upsert("east", 1, 2); // east moves to another key: the old one is free
    membership.upsert(copied).get(10, TimeUnit.SECONDS);
  }

  /** Every entry after {@code after}, read batch by batch as the fan-out does. */
  protected List<LogEntry> entriesAfter(long after) {
    List<LogEntry> all = new ArrayList<>();
    long cursor = after;
    for (int i = 0; i < 1000; i++) {
      List<LogEntry> batch = membership.readAfter(cursor, 2).orElseThrow();
      if (batch.isEmpty()) {
        return all;
      }
      all.addAll(batch);
      cursor = batch.get(batch.size() - 1).revision();
    }
    throw new AssertionError("readAfter did not end");
  }

  @Test
  void anAcceptedRecordIsReadBackWithTheRevisionItWasStoredAt() throws Exception {
    long revision = upsert("east", 1, 1);
    ClusterRecord stored = membership.cluster("east").orElseThrow();
    assertEquals(1, stored.generation());
    assertEquals(revision, stored.revision());
    assertTrue(membership.durableRevision() >= revision);
    assertEquals(List.of("east"), membership.clusters().stream().map(ClusterRecord::clusterId).toList());
  }

  @Test
  void revisionsGrowWithEveryChange() throws Exception {
    long a = upsert("east", 1, 1);
    long b = upsert("west", 2, 1);
    long c = upsert("east", 1, 2);
    assertTrue(a < b && b < c, a + " < " + b + " < " + c);
  }

  @Test
  void aGenerationThatDoesNotGrowIsRefusedAndChangesNothing() throws Exception {
    upsert("east", 1, 5);
    long before = membership.durableRevision();
    Rejection same = assertThrows(Rejection.class, () -> membership.upsert(record("east", 1, 5)));
    assertEquals(Rejection.Kind.FAILED_PRECONDITION, same.kind());
    assertTrue(same.getMessage().contains("record.generation: 5 is not greater than the stored generation 5"),
        same.getMessage());
    assertThrows(Rejection.class, () -> membership.upsert(record("east", 1, 4)));
    assertEquals(5, membership.cluster("east").orElseThrow().generation());
    assertTrue(entriesAfter(before).isEmpty(), "a refused write leaves no entry");
  }

  @Test
  void aViewOfANonMemberIsRefused() throws Exception {
    upsert("east", 1, 1);
    Rejection r = assertThrows(Rejection.class,
        () -> membership.publishViews("east", List.of(view("east", "ghost", 1)), List.of()));
    assertEquals(Rejection.Kind.FAILED_PRECONDITION, r.kind());
    assertTrue(r.getMessage().contains("views[0].subject_cluster_id: \"ghost\" is not a member"), r.getMessage());
  }

  @Test
  void viewGenerationsOnlyGrowAndViewsGoToTheirSubjectOnly() throws Exception {
    upsert("east", 1, 1);
    long base = upsert("west", 2, 1);
    long revision = membership.publishViews("east", List.of(view("east", "west", 1)), List.of())
        .get(10, TimeUnit.SECONDS);
    assertTrue(revision > base);
    assertThrows(Rejection.class, () -> membership.publishViews("east", List.of(view("east", "west", 1)), List.of()));
    List<LogEntry> entries = entriesAfter(base);
    assertEquals(1, entries.size());
    LogEntry e = entries.get(0);
    assertTrue(e.event() instanceof ViewUpdated);
    assertTrue(e.isFor("west"));
    assertFalse(e.isFor("east"));
    assertEquals(List.of(view("east", "west", 1)), membership.image().viewsFor("west"));
  }

  @Test
  void aWithdrawnViewIsRemovedForItsSubject() throws Exception {
    upsert("east", 1, 1);
    upsert("west", 2, 1);
    long published = membership.publishViews("east", List.of(view("east", "west", 1)), List.of())
        .get(10, TimeUnit.SECONDS);
    membership.publishViews("east", List.of(), List.of("west")).get(10, TimeUnit.SECONDS);
    List<LogEntry> entries = entriesAfter(published);
    assertEquals(List.of(new ViewRemoved(new PeerView.Key("east", "west"))),
        entries.stream().map(LogEntry::event).toList());
    assertTrue(membership.image().viewsFor("west").isEmpty());
  }

  @Test
  void aRemovalTakesTheClustersViewsAlongAndSaysWhy() throws Exception {
    upsert("east", 1, 1);
    upsert("west", 2, 1);
    upsert("north", 3, 1);
    membership.publishViews("east", List.of(view("east", "west", 1)), List.of()).get(10, TimeUnit.SECONDS);
    long before = membership.publishViews("west", List.of(view("west", "east", 1), view("west", "north", 1)),
        List.of()).get(10, TimeUnit.SECONDS);
    long removed = membership.remove("east", RemovalReason.REVOKED).get(10, TimeUnit.SECONDS);
    assertTrue(removed > before);
    assertTrue(membership.cluster("east").isEmpty());
    SnapshotImage image = membership.image();
    assertTrue(image.viewsFor("west").isEmpty(), "east's view of west went with east");
    assertTrue(image.viewsFor("east").isEmpty(), "west's view of east went with east");
    assertEquals(List.of(view("west", "north", 1)), image.viewsFor("north"));
    List<MembershipEvent> events = entriesAfter(before).stream().map(LogEntry::event).toList();
    assertEquals(List.of(new ClusterRemoved("east", RemovalReason.REVOKED)), events);
    Rejection again = assertThrows(Rejection.class, () -> membership.remove("east", RemovalReason.REMOVED));
    assertEquals(Rejection.Kind.NOT_FOUND, again.kind());
  }

  @Test
  void changesAreReadBackInRevisionOrderFromAnyResumePoint() throws Exception {
    long start = membership.durableRevision();
    List<Long> revisions = new ArrayList<>();
    for (int g = 1; g <= 6; g++) {
      revisions.add(upsert("c" + (g % 3), g % 3 + 1, g));
    }
    List<LogEntry> all = entriesAfter(start);
    assertEquals(revisions, all.stream().map(LogEntry::revision).toList());
    assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L), all.stream()
        .map(e -> ((ClusterUpserted) e.event()).record().generation()).toList());
    List<LogEntry> tail = entriesAfter(revisions.get(3));
    assertEquals(revisions.subList(4, 6), tail.stream().map(LogEntry::revision).toList());
    assertTrue(membership.canResumeFrom(revisions.get(3)));
    assertFalse(membership.canResumeFrom(0));
  }

  @Test
  void durableListenersHearOfEveryAdvance() throws Exception {
    List<Long> heard = new CopyOnWriteArrayList<>();
    membership.onDurable(heard::add);
    long revision = upsert("east", 1, 1);
    Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> heard.stream().anyMatch(r -> r >= revision));
  }
}
