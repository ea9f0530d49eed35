package io.meshwire.agent.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.stub.ServerCallStreamObserver;
import io.meshwire.netaddr.Cidr;
import io.meshwire.proto.peer.v1.CatalogEvent;
import io.meshwire.proto.peer.v1.WatchCatalogRequest;
import io.meshwire.reflection.catalog.Catalog;
import io.meshwire.reflection.catalog.CatalogHistory;
import io.meshwire.reflection.catalog.Endpoint;
import io.meshwire.reflection.catalog.ExportedService;
import io.meshwire.reflection.catalog.ServicePort;
import io.meshwire.reflection.catalog.ServiceType;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The catalog stream to a slow peer: the service writes only while the transport is ready, keeps
 * its cursor when it is not, and resumes from onReady, so a peer that reads nothing costs no
 * buffered messages.
 */
class PeerServiceFlowControlTest {

  private static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

  @AfterEach
  void stop() {
    scheduler.shutdownNow();
  }

  private static ExportedService web(String ns, String address) {
    return new ExportedService(ns, "web", ServiceType.CLUSTER_SET_IP, List.of(ServicePort.of("http", "TCP", 80)),
        List.of(Endpoint.ready(Cidr.parseAddress(address), Map.of("http", 8080))), T0);
  }

  @Test
  void aPeerThatReadsNothingIsSentNothingAndGetsEverythingOnceReady() {
    Catalog first = Catalog.empty("ua").next(List.of(web("shop", "10.1.0.1")));
    CatalogHistory history = new CatalogHistory(first, 100);
    PeerService service = new PeerService("a", history, Runnable::run, scheduler, Duration.ofHours(1));
    SlowStream stream = new SlowStream();
    // the peer holds revision 1 of this catalog: it needs the changes only
    service.watchCatalog(WatchCatalogRequest.newBuilder().setCatalogUid("ua").setSinceRevision(first.revision())
        .build(), stream);
    assertEquals(1, stream.sent.size(), "caught_up while the transport took it");
    stream.ready = false;
    Catalog c = first;
    for (int i = 2; i <= 50; i++) {
      c = c.next(List.of(web("shop", "10.1.0." + i)));
      history.record(c);
    }
    assertEquals(1, stream.sent.size(), "nothing written while the peer is not ready");
    stream.ready = true;
    stream.readyBudget = 10; // the transport takes ten messages, then is full again
    stream.onReady.run();
    assertEquals(11, stream.sent.size());
    stream.readyBudget = Integer.MAX_VALUE;
    stream.onReady.run();
    CatalogEvent last = stream.sent.get(stream.sent.size() - 1);
    assertEquals(c.revision(), last.getRevision(), "resumed where it stopped, up to the latest revision");
    List<Long> revisions = stream.sent.stream().skip(1).map(CatalogEvent::getRevision).toList();
    for (int i = 1; i < revisions.size(); i++) {
      assertTrue(revisions.get(i) > revisions.get(i - 1), "in order, none twice: " + revisions);
    }
  }

  @Test
  void aPeerNotReadyAtTheStartGetsTheFullCatalogOnReady() {
    CatalogHistory history = new CatalogHistory(Catalog.empty("ua").next(List.of(web("shop", "10.1.0.1"))), 100);
    PeerService service = new PeerService("a", history, Runnable::run, scheduler, Duration.ofHours(1));
    SlowStream stream = new SlowStream();
    stream.ready = false;
    service.watchCatalog(WatchCatalogRequest.getDefaultInstance(), stream);
    assertEquals(List.of(), stream.sent);
    stream.ready = true;
    stream.onReady.run();
    assertEquals(2, stream.sent.size(), "the full catalog, then caught_up");
    assertTrue(stream.sent.get(1).hasCaughtUp());
  }

  /** A server stream whose transport is ready only while the test says so. */
  private static final class SlowStream extends ServerCallStreamObserver<CatalogEvent> {
    final List<CatalogEvent> sent = new ArrayList<>();
    boolean ready = true;
    int readyBudget = Integer.MAX_VALUE;
    Runnable onReady = () -> { };

    @Override
    public boolean isReady() {
      return ready && readyBudget > 0;
    }

    @Override
    public void onNext(CatalogEvent value) {
      if (!isReady()) {
        // gRPC would buffer it: exactly what the service must not make it do
        throw new AssertionError("written while not ready");
      }
      readyBudget--;
      sent.add(value);
    }

    @Override
    public void setOnReadyHandler(Runnable handler) {
      onReady = handler;
    }

    @Override
    public boolean isCancelled() {
      return false;
    }

    @Override
    public void setOnCancelHandler(Runnable handler) { }

    @Override
    public void setCompression(String compression) { }

    @Override
    public void disableAutoInboundFlowControl() { }

    @Override
    public void request(int count) { }

    @Override
    public void setMessageCompression(boolean enable) { }

    @Override
    public void onError(Throwable t) {
      throw new AssertionError("stream failed", t);
    }

    @Override
    public void onCompleted() { }
  }
}
