package io.meshwire.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.ClientCalls;
import io.meshwire.certs.tls.TlsCredentials;
import io.meshwire.proto.admin.v1.AuditEvent;
import io.meshwire.proto.admin.v1.MeshAdminGrpc;
import io.meshwire.proto.admin.v1.WatchAuditRequest;
import io.meshwire.proto.enrollment.v1.EnrollmentGrpc;
import io.meshwire.proto.rendezvous.v1.AnnounceRequest;
import io.meshwire.proto.rendezvous.v1.RendezvousGrpc;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bytes that are not a message (defect 3 of issue 12): INVALID_ARGUMENT with a short reason on
 * every method, anonymous or not, counted, no stack trace logged at WARNING or above, recorded as a
 * refused call in the audit log; every call without a certificate goes through the rate limit.
 */
class MalformedRequestsTest {

  /** A length-delimited field 1 whose length runs past the end: 5 bytes no message parser accepts. */
  static final byte[] GARBAGE = {0x0a, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f};

  @TempDir Path data;
  HubFixture hub;
  TlsCredentials east;
  final List<LogRecord> loud = new ArrayList<>();
  final Handler capture = new Handler() {
    @Override
    public void publish(LogRecord record) {
      if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
        synchronized (loud) {
          loud.add(record);
        }
      }
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  };

  @BeforeEach
  void start() throws Exception {
    Logger.getLogger("io.grpc").addHandler(capture);
    hub = new HubFixture(data, Map.of("enroll-rate", "6/1m"));
    east = hub.enroll("east"); // one anonymous permit of six
  }

  @AfterEach
  void stop() {
    Logger.getLogger("io.grpc").removeHandler(capture);
    hub.close();
  }

  private static final MethodDescriptor.Marshaller<byte[]> RAW = io.meshwire.hub.api.PreEncodedMarshaller.INSTANCE;


  private static StatusRuntimeException sendGarbage(ManagedChannel channel, MethodDescriptor<?, ?> method) {
    MethodDescriptor<byte[], byte[]> raw = method.toBuilder(RAW, RAW).build();
    return assertThrows(StatusRuntimeException.class, () -> {
      if (raw.getType() == MethodDescriptor.MethodType.UNARY) {
        ClientCalls.blockingUnaryCall(channel, raw, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), GARBAGE);
      } else {
        ClientCalls.blockingServerStreamingCall(channel, raw,
            CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), GARBAGE).hasNext();
      }
    });
  }

  private static void assertInvalidAndShort(StatusRuntimeException e) {
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.getStatus().toString());
    String description = e.getStatus().getDescription();
    assertTrue(description.startsWith("request is not a valid ") && description.length() < 300, description);
  }

  private double malformedCount() {
    return hub.meters().find("meshwire.hub.requests.malformed").counters().stream()
        .mapToDouble(io.micrometer.core.instrument.Counter::count).sum();
  }

  @Test
  void garbageOnEveryKindOfMethodIsInvalidArgumentCountedAndQuiet() {
    assertInvalidAndShort(sendGarbage(hub.channel(null), EnrollmentGrpc.getEnrollMethod()));
    assertInvalidAndShort(sendGarbage(hub.channel(null), HealthGrpc.getCheckMethod()));
    assertInvalidAndShort(sendGarbage(hub.channel(east), RendezvousGrpc.getAnnounceMethod()));
    assertInvalidAndShort(sendGarbage(hub.channel(east), RendezvousGrpc.getWatchMethod()));
    assertInvalidAndShort(sendGarbage(hub.channel(hub.admin()), MeshAdminGrpc.getListClustersMethod()));

    assertEquals(5, malformedCount());
    synchronized (loud) {
      assertEquals(List.of(), loud.stream().map(r -> r.getLevel() + " " + r.getMessage()).toList());
    }
    // The hub keeps answering.
    RendezvousGrpc.newBlockingStub(hub.channel(east))
        .announce(AnnounceRequest.newBuilder().setRecord(HubFixture.record("east", 1, 1)).build());
  }

  @Test
  void everyCallWithoutACertificateTakesARatePermitMalformedOrNot() {
    for (int i = 0; i < 3; i++) {
      assertInvalidAndShort(sendGarbage(hub.channel(null), EnrollmentGrpc.getEnrollMethod()));
    }
    var health = HealthGrpc.newBlockingStub(hub.channel(null));
    health.check(HealthCheckRequest.getDefaultInstance());
    assertEquals(Status.Code.UNAUTHENTICATED, assertThrows(StatusRuntimeException.class,
        () -> RendezvousGrpc.newBlockingStub(hub.channel(null))
            .announce(AnnounceRequest.newBuilder().setRecord(HubFixture.record("east", 1, 1)).build()))
        .getStatus().getCode());
    StatusRuntimeException limited = assertThrows(StatusRuntimeException.class,
        () -> health.check(HealthCheckRequest.getDefaultInstance()));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, limited.getStatus().getCode(), limited.getStatus().toString());
    // Authenticated callers are not affected by the anonymous limit.
    HealthGrpc.newBlockingStub(hub.channel(east)).check(HealthCheckRequest.getDefaultInstance());
  }

  @Test
  void refusedCallsAreInTheAuditLog() {
    sendGarbage(hub.channel(east), RendezvousGrpc.getAnnounceMethod());
    assertThrows(StatusRuntimeException.class, () -> MeshAdminGrpc.newBlockingStub(hub.channel(east))
        .listClusters(io.meshwire.proto.admin.v1.ListClustersRequest.getDefaultInstance()));

    Iterator<AuditEvent> events = MeshAdminGrpc.newBlockingStub(hub.channel(hub.admin()))
        .withDeadlineAfter(10, TimeUnit.SECONDS).watchAudit(WatchAuditRequest.getDefaultInstance());
    List<String> refused = new ArrayList<>();
    while (refused.size() < 2 && events.hasNext()) {
      AuditEvent e = events.next();
      if (e.getAction().equals("call.refused")) {
        refused.add(e.getSubject() + " " + e.getDetail());
      }
    }
    assertTrue(refused.get(0).startsWith("meshwire.rendezvous.v1.Rendezvous/Announce malformed request (5 bytes)"),
        refused.toString());
    assertTrue(refused.get(1).startsWith("meshwire.admin.v1.MeshAdmin/ListClusters role: "), refused.toString());
  }

  @Test
  void aHugeInputNeverComesBackAsAHugeStatusEvenFromTheHealthService() {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> HealthGrpc.newBlockingStub(
        hub.channel(null)).check(HealthCheckRequest.newBuilder().setService("x".repeat(10_000)).build()));
    assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode(), e.getStatus().toString());
    assertTrue(e.getStatus().getDescription().length() < 1100, e.getStatus().getDescription().length() + " chars");
  }
}
