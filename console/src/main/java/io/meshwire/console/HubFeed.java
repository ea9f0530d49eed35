package io.meshwire.console;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.meshwire.proto.admin.v1.AuditEvent;
import io.meshwire.proto.admin.v1.GetMeshStatusRequest;
import io.meshwire.proto.admin.v1.LinkStatus;
import io.meshwire.proto.admin.v1.ListClustersRequest;
import io.meshwire.proto.admin.v1.ListClustersResponse;
import io.meshwire.proto.admin.v1.MeshAdminGrpc;
import io.meshwire.proto.admin.v1.MeshStatus;
import io.meshwire.proto.admin.v1.WatchAuditRequest;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code HubFeed} keeps the console's picture of the mesh current from the hub's admin API: it
 * polls {@code ListClusters} and {@code GetMeshStatus} every poll interval, holds a {@code
 * WatchAudit} stream open, and polls at once when an audit event arrives (a revocation shows
 * without waiting for the next tick). Each time the picture changes it hands the whole state, as
 * JSON, to its consumer. When the hub cannot be reached or refuses the credentials, it keeps the
 * last mesh it had (marked stale), says why, logs the transition once, and keeps trying: after each
 * failure it resets the channel's connect back-off so a hub that comes back is seen at the next
 * tick.
 *
 * <p>Thread-safety: everything runs on one scheduler thread, which owns the fields below; gRPC
 * callbacks only hand work to it. {@link #latest()} may be called from any thread.
 */
final class HubFeed implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(HubFeed.class);
  /** Audit events the console keeps for the page. */
  static final int AUDIT_KEPT = 300;
  private static final Duration CALL_DEADLINE = Duration.ofSeconds(3);

  /** What the console knows of its connection to the hub. */
  public enum Connection {
    CONNECTING,
    CONNECTED,
    UNREACHABLE,
    /** The hub (or TLS) refused the admin credential. */
    REFUSED
  }

  /** The connection, why it is so (empty when connected), and since when. */
  public record HubState(Connection connection, String detail, Instant since) {}

  private final ManagedChannel channel;
  private final String hubAddress;
  private final Duration pollInterval;
  private final InstantSource clock;
  private final Consumer<String> onChange;
  private final ScheduledExecutorService loop;

  // Owned by the loop thread.
  private HubState state;
  private ListClustersResponse clusters;
  private MeshStatus status;
  private Instant fetchedAt;
  private Map<String, LinkChanges.Change> linkChanges = Map.of();
  private final LinkChanges changes = new LinkChanges();
  private final Deque<AuditEvent> audit = new ArrayDeque<>();
  private final Set<String> auditKeys = new HashSet<>();
  private ClientCallStreamObserver<WatchAuditRequest> auditCall;
  private boolean pollQueued;
  /** Something the page shows changed since the last {@link #publish()}. */
  private boolean dirty;

  private volatile String latest;
  private volatile boolean closed;

  /**
   * A feed from the hub behind {@code channel} (opened with the admin credential), named {@code
   * hubAddress} on the page and in logs. Call {@link #start()}.
   */
  public HubFeed(ManagedChannel channel, String hubAddress, Duration pollInterval, InstantSource clock,
      Consumer<String> onChange) {
    this.channel = channel;
    this.hubAddress = hubAddress;
    this.pollInterval = pollInterval;
    this.clock = clock;
    this.onChange = onChange;
    this.state = new HubState(Connection.CONNECTING, "", clock.instant());
    this.loop = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "console-hub");
      t.setDaemon(true);
      return t;
    });
    this.latest = render();
  }

  /** Starts polling at once, then every poll interval. */
  public void start() {
    loop.scheduleWithFixedDelay(this::poll, 0, pollInterval.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The newest state as JSON (what {@code /api/state} answers and a new event stream starts with). */
  public String latest() {
    return latest;
  }

  private void poll() {
    pollQueued = false;
    try {
      var stub = MeshAdminGrpc.newBlockingStub(channel);
      ListClustersResponse c = stub.withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
          .listClusters(ListClustersRequest.getDefaultInstance());
      MeshStatus s = stub.withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
          .getMeshStatus(GetMeshStatusRequest.getDefaultInstance());
      if (!c.equals(clusters) || !s.equals(status)) {
        clusters = c;
        status = s;
        fetchedAt = clock.instant();
        linkChanges = changes.update(linkStates(s.getLinksList()), fetchedAt);
        dirty = true;
      }
      enter(Connection.CONNECTED, "");
      if (auditCall == null) {
        openAudit();
      }
    } catch (StatusRuntimeException e) {
      if (closed) {
        return; // the call was interrupted by close(): not the hub's doing
      }
      failed(e.getStatus());
    } catch (RuntimeException e) {
      log.warn("event=console_poll_failed hub={} error=\"{}\"", hubAddress, e.toString(), e);
    }
    publish();
  }

  private void failed(Status s) {
    boolean refused = s.getCode() == Status.Code.UNAUTHENTICATED || s.getCode() == Status.Code.PERMISSION_DENIED
        || causedByTls(s.getCause());
    enter(refused ? Connection.REFUSED : Connection.UNREACHABLE, describe(s, refused));
    channel.resetConnectBackoff(); // our tick decides when to try again, not the channel's growing back-off
  }

  private void enter(Connection connection, String detail) {
    if (state.connection() == connection && state.detail().equals(detail)) {
      return;
    }
    boolean changedKind = state.connection() != connection;
    state = new HubState(connection, detail, changedKind ? clock.instant() : state.since());
    dirty = true;
    if (!changedKind) {
      return;
    }
    switch (connection) {
      case CONNECTED -> log.info("event=console_hub_connected hub={} revision={} clusters={}", hubAddress,
          clusters.getRevision(), clusters.getClustersCount());
      case REFUSED -> log.warn("event=console_hub_refused hub={} detail=\"{}\" (retrying every {} ms)",
          hubAddress, detail, pollInterval.toMillis());
      case UNREACHABLE -> log.warn("event=console_hub_unreachable hub={} detail=\"{}\" (retrying every {} ms)",
          hubAddress, detail, pollInterval.toMillis());
      case CONNECTING -> {}
    }
  }

  /**
   * Opens the audit stream from the start of what the hub keeps. Events already shown are skipped
   * by (sequence, time): a restarted hub numbers its events from 1 again, so resuming from the
   * last sequence seen could miss the new hub's first events.
   */
  private void openAudit() {
    ClientResponseObserver<WatchAuditRequest, AuditEvent> observer = new ClientResponseObserver<>() {
      @Override
      public void beforeStart(ClientCallStreamObserver<WatchAuditRequest> call) {
        auditCall = call;
      }

      @Override
      public void onNext(AuditEvent e) {
        submit(() -> audited(e));
      }

      @Override
      public void onError(Throwable t) {
        submit(HubFeed.this::auditEnded);
      }

      @Override
      public void onCompleted() {
        submit(HubFeed.this::auditEnded);
      }
    };
    MeshAdminGrpc.newStub(channel).watchAudit(WatchAuditRequest.getDefaultInstance(), observer);
  }

  /** Runs {@code task} on the loop thread; dropped once the feed is closed. */
  private void submit(Runnable task) {
    try {
      loop.execute(task);
    } catch (java.util.concurrent.RejectedExecutionException closed) {
      // the console is shutting down: nothing left to update
    }
  }

  private void audited(AuditEvent e) {
    if (!auditKeys.add(e.getSequence() + "@" + e.getTime().getSeconds() + "." + e.getTime().getNanos())) {
      return;
    }
    audit.addFirst(e);
    dirty = true;
    if (audit.size() > AUDIT_KEPT) {
      AuditEvent dropped = audit.removeLast();
      auditKeys.remove(dropped.getSequence() + "@" + dropped.getTime().getSeconds() + "." + dropped.getTime().getNanos());
    }
    // A change of membership (enrolled, announced, revoked, removed): fetch it now, once per burst.
    if (!pollQueued) {
      pollQueued = true;
      loop.execute(this::poll);
    }
  }

  /** The stream ended (hub stopped, or it closed it): poll now, which reopens it once the hub answers. */
  private void auditEnded() {
    auditCall = null;
    if (!pollQueued) {
      pollQueued = true;
      loop.execute(this::poll);
    }
  }

  /** Renders and hands on the state when something changed: at 200 clusters that is ~10 MB of JSON. */
  private void publish() {
    if (!dirty) {
      return;
    }
    dirty = false;
    String json = render();
    if (!json.equals(latest)) {
      latest = json;
      onChange.accept(json);
    }
  }

  private String render() {
    return ConsoleJson.state(hubAddress, state, clusters, status, fetchedAt, linkChanges, List.copyOf(audit));
  }

  static String linkKey(String from, String to) {
    return from + "\u0000" + to;
  }

  private static Map<String, String> linkStates(List<LinkStatus> links) {
    Map<String, String> states = new HashMap<>();
    links.forEach(l -> states.put(linkKey(l.getFromClusterId(), l.getToClusterId()), l.getStatus().getState().name()));
    return states;
  }

  private static boolean causedByTls(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof SSLException || c instanceof java.security.cert.CertificateException) {
        return true;
      }
    }
    return false;
  }

  /** {@code UNAVAILABLE: io exception (Connection refused: ...)}, at most 300 characters. */
  static String describe(Status s, boolean refused) {
    StringBuilder b = new StringBuilder(s.getCode().name());
    if (s.getDescription() != null && !s.getDescription().isBlank()) {
      b.append(": ").append(s.getDescription().strip());
    }
    Throwable root = s.getCause();
    while (root != null && root.getCause() != null) {
      root = root.getCause();
    }
    if (root != null && root.getMessage() != null && (s.getDescription() == null
        || !s.getDescription().contains(root.getMessage()))) {
      b.append(" (").append(root.getMessage().strip()).append(')');
    }
    if (refused && s.getCode() == Status.Code.UNAVAILABLE) {
      b.insert(0, "TLS handshake failed (admin credential refused, or not this mesh's hub): ");
    }
    String text = b.toString().replaceAll("[\\r\\n]+", " ");
    return text.length() > 300 ? text.substring(0, 300) + "..." : text;
  }

  @Override
  public void close() {
    closed = true;
    loop.shutdownNow();
    try {
      loop.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    ClientCallStreamObserver<WatchAuditRequest> call = auditCall;
    if (call != null) {
      call.cancel("console closing", null);
    }
  }
}
