package io.meshwire.cli.admin;

import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.meshwire.cli.Table;
import io.meshwire.proto.admin.v1.AuditEvent;
import io.meshwire.proto.admin.v1.WatchAuditRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code AuditCommand} is {@code meshwire audit}: the hub's audit events (who enrolled, revoked,
 * created tokens...). Without {@code --follow} it prints the events the hub keeps and returns once
 * the stream has been quiet for {@link #IDLE} (the hub sends kept events at once, so a quiet
 * stream means they are all in), or after {@link AdminConnection#CALL_DEADLINE} at the latest.
 * With {@code --follow} it prints events as they come until the hub ends the stream or the
 * command is interrupted.
 */
@Command(
    name = "audit",
    description = {
      "Print the hub's audit events: enrollments, revocations, tokens, refused calls.",
      "Without --follow, prints the events the hub keeps in memory and exits. With --follow, it goes "
          + "on printing new events as they happen until Ctrl-C: one line per event, or one JSON object per "
          + "line with -o json."
    })
public final class AuditCommand implements Runnable {

  /** How long the stream must be quiet before the kept events count as all received. */
  static final Duration IDLE = Duration.ofSeconds(1);

  private static final String[] HEADER = {"SEQ", "TIME", "ACTOR", "ACTION", "SUBJECT", "DETAIL"};

  @Mixin private AdminOptions admin;

  @Option(names = "--since", paramLabel = "SEQ", defaultValue = "0",
      description = "Only events with a sequence number above SEQ (default: ${DEFAULT-VALUE}).")
  private long since;

  @Option(names = {"-f", "--follow"}, description = "Keep printing new events until interrupted (Ctrl-C).")
  private boolean follow;

  /** What the gRPC thread hands to the command's thread, in stream order. */
  private sealed interface Item {}

  private record Received(AuditEvent event) implements Item {}

  /** The end of the stream: {@code error} is null when the hub completed it. */
  private record Ended(Throwable error) implements Item {}

  @Override
  public void run() {
    // Unbounded: audit events are operator actions, a handful per minute.
    BlockingQueue<Item> items = new LinkedBlockingQueue<>();
    try (AdminConnection hub = admin.connect()) {
      hub.awaitConnected(AdminConnection.CALL_DEADLINE);
      AtomicReference<ClientCallStreamObserver<WatchAuditRequest>> call = new AtomicReference<>();
      hub.stream().watchAudit(WatchAuditRequest.newBuilder().setSinceSequence(since).build(),
          new ClientResponseObserver<WatchAuditRequest, AuditEvent>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<WatchAuditRequest> stream) {
              call.set(stream);
            }

            @Override
            public void onNext(AuditEvent event) {
              items.add(new Received(event));
            }

            @Override
            public void onError(Throwable t) {
              items.add(new Ended(t));
            }

            @Override
            public void onCompleted() {
              items.add(new Ended(null));
            }
          });
      try {
        if (follow) {
          follow(items);
        } else {
          printKept(items);
        }
      } finally {
        call.get().cancel("the command is done", null); // a no-op once the stream ended
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // interrupted (e.g. Ctrl-C from a caller in-process): a normal end
    }
  }

  private void printKept(BlockingQueue<Item> items) throws InterruptedException {
    List<AuditEvent> events = new ArrayList<>();
    long end = System.nanoTime() + AdminConnection.CALL_DEADLINE.toNanos();
    receive:
    while (true) {
      long wait = Math.min(IDLE.toNanos(), end - System.nanoTime());
      Item item = wait > 0 ? items.poll(wait, TimeUnit.NANOSECONDS) : null;
      switch (item) {
        case null -> {
          break receive;
        }
        case Received(AuditEvent event) -> events.add(event);
        case Ended ended -> {
          rethrow(ended);
          break receive;
        }
      }
    }
    if (admin.json()) {
      admin.printJson(events);
      return;
    }
    Table table = Table.withHeader(HEADER);
    events.forEach(e -> table.row(row(e)));
    table.print(admin.out());
  }

  private void follow(BlockingQueue<Item> items) throws InterruptedException {
    while (true) {
      switch (items.take()) {
        case Received(AuditEvent event) -> {
          if (admin.json()) {
            JsonOutput.printLine(admin.out(), event);
          } else {
            Table.printLine(admin.out(), row(event));
          }
        }
        case Ended ended -> {
          rethrow(ended);
          return;
        }
      }
    }
  }

  private static Object[] row(AuditEvent e) {
    return new Object[] {e.getSequence(), Cells.time(e.getTime()), Cells.text(e.getActor()), e.getAction(),
        Cells.text(e.getSubject()), Cells.text(e.getDetail())};
  }

  private static void rethrow(Ended ended) {
    switch (ended.error()) {
      case null -> {}
      case RuntimeException e -> throw e;
      case Throwable t -> throw new IllegalStateException(t.getMessage(), t);
    }
  }
}
