package io.meshwire.reflection.catalog;

import static io.meshwire.reflection.catalog.TestServices.ep;
import static io.meshwire.reflection.catalog.TestServices.service;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class CatalogTest {

  private final ExportedService a = service("ns", "a", ep("10.0.0.1", 8080));
  private final ExportedService b = service("ns", "b", ep("10.0.0.2", 8080));
  private final ExportedService b2 = service("ns", "b", ep("10.0.0.3", 8080));

  @Test
  void nextRaisesTheRevisionByOnePerChangedService() {
    Catalog c0 = Catalog.empty("u");
    Catalog c1 = c0.next(List.of(a, b));
    assertEquals(2, c1.revision());
    Catalog c2 = c1.next(List.of(b2));
    assertEquals(4, c2.revision(), "a removed, b changed");
    assertSame(c2, c2.next(List.of(b2)), "no change, same catalog");
  }

  @Test
  void changesAreNumberedAndApplyToTheSameCatalog() {
    Catalog c1 = Catalog.empty("u").next(List.of(a, b));
    List<CatalogChange> changes = c1.changesTo(List.of(b2));
    assertEquals(List.of(new CatalogChange.Removed(3, a.ref()), new CatalogChange.Upserted(4, b2)), changes);
    Catalog replayed = c1;
    for (CatalogChange c : changes) {
      replayed = replayed.apply(c);
    }
    assertEquals(c1.next(List.of(b2)), replayed);
    assertThrows(IllegalArgumentException.class, () -> c1.apply(new CatalogChange.Removed(2, a.ref())));
  }

  @Test
  void duplicateServicesAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> new Catalog("u", 1, List.of(b, b2)));
  }

  @Test
  void historyResumesWithinTheTailAndSendsFullOtherwise() {
    Catalog c0 = Catalog.empty("u");
    CatalogHistory history = new CatalogHistory(c0, 2);
    Catalog c2 = c0.next(List.of(a, b));
    history.record(c2);
    Catalog c3 = c2.next(List.of(a, b2));
    history.record(c3);
    // Tail holds revisions 2 and 3 (capacity 2): a reader at 1 can resume, one at 0 cannot.
    var resume = assertInstanceOf(CatalogHistory.Resume.Changes.class, history.since("u", 1));
    assertEquals(List.of(2L, 3L), resume.changes().stream().map(CatalogChange::revision).toList());
    assertInstanceOf(CatalogHistory.Resume.Full.class, history.since("u", 0));
    assertEquals(List.of(), assertInstanceOf(CatalogHistory.Resume.Changes.class, history.since("u", 3)).changes());
    assertInstanceOf(CatalogHistory.Resume.Full.class, history.since("other", 3), "another incarnation");
    assertInstanceOf(CatalogHistory.Resume.Full.class, history.since("u", 9), "from the future");
  }

  @Test
  void historyStartsOverWhenTheUidChanges() {
    CatalogHistory history = new CatalogHistory(Catalog.empty("u"), 10);
    history.record(Catalog.empty("u").next(List.of(a)));
    Catalog fresh = Catalog.empty("v").next(List.of(b));
    history.record(fresh);
    assertEquals(fresh, history.latest());
    assertInstanceOf(CatalogHistory.Resume.Full.class, history.since("u", 1));
    assertInstanceOf(CatalogHistory.Resume.Full.class, history.since("v", 0), "tail was dropped with the new uid");
  }
}
