package io.meshwire.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.ClientCalls;
import io.meshwire.certs.Csrs;
import io.meshwire.certs.Role;
import io.meshwire.certs.SpiffeId;
import io.meshwire.certs.tls.TlsCredentials;
import io.meshwire.proto.admin.v1.CreateJoinTokenRequest;
import io.meshwire.proto.admin.v1.GetClusterRequest;
import io.meshwire.proto.admin.v1.GetMeshStatusRequest;
import io.meshwire.proto.admin.v1.ListClustersRequest;
import io.meshwire.proto.admin.v1.ListClustersResponse;
import io.meshwire.proto.admin.v1.ListJoinTokensRequest;
import io.meshwire.proto.admin.v1.MeshAdminGrpc;
import io.meshwire.proto.admin.v1.WatchAuditRequest;
import io.meshwire.proto.enrollment.v1.EnrollRequest;
import io.meshwire.proto.enrollment.v1.EnrollmentGrpc;
import io.meshwire.proto.enrollment.v1.RenewRequest;
import io.meshwire.proto.rendezvous.v1.AnnounceRequest;
import io.meshwire.proto.rendezvous.v1.CidrMapping;
import io.meshwire.proto.rendezvous.v1.PeerLinkStatus;
import io.meshwire.proto.rendezvous.v1.PeerView;
import io.meshwire.proto.rendezvous.v1.PublishViewsRequest;
import io.meshwire.proto.rendezvous.v1.RendezvousGrpc;
import io.meshwire.proto.rendezvous.v1.ReportStatusRequest;
import io.meshwire.proto.rendezvous.v1.WatchRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fuzzes every RPC of the hub over TLS, as the method's own role and as others (anonymous, a
 * cluster, the admin), with inputs mutated from valid messages (field-aware: edge values, huge and
 * odd strings, IPv4-mapped and special CIDRs, cleared and repeated fields) and at the byte level
 * (flips, truncation, random bytes). Asserts: no call ends UNKNOWN or INTERNAL, the hub keeps
 * answering, a refused call leaves the store's revision unchanged, and the store reads back after a
 * restart with every record it held. Bounded: {@code -Dmeshwire.fuzz.seconds} (default 30); the
 * seed is {@code -Dmeshwire.fuzz.seed} (a number, or {@code random}; printed on failure).
 */
class HubFuzzTest {

  private static final Duration BUDGET = Duration.ofSeconds(Long.getLong("meshwire.fuzz.seconds", 30));
  /** Fixed by default so CI explores the same inputs every run; {@code -Dmeshwire.fuzz.seed=random} explores. */
  private static final long SEED = System.getProperty("meshwire.fuzz.seed", "20261206").equals("random")
      ? new Random().nextLong() : Long.parseLong(System.getProperty("meshwire.fuzz.seed", "20261206"));
  private static final Set<Status.Code> NEVER = Set.of(Status.Code.UNKNOWN, Status.Code.INTERNAL);
  private static final List<String> STRINGS = List.of("", "east", "west", "nosuch", "EAST", "-", "a".repeat(64),
      "x".repeat(10_000), "::ffff:10.0.0.0/112", "0.0.0.0/0", "::/0", "127.0.0.0/8", "10.0.0.0/33", "10.1.0.1/16",
      "fe80::/64", "224.0.0.0/4", "198.18.0.1:0", "[::1]:51820", "h\u00e9llo\u0000\n", "\uD800", "10.9.0.0/16");
  private static final List<Long> NUMBERS = List.of(0L, 1L, -1L, 2L, 65535L, 65536L, Long.MAX_VALUE, Long.MIN_VALUE,
      (1L << 53) - 1, 1L << 53, 4294967295L, 2147483648L);

  @TempDir Path data;
  HubFixture hub;
  Random random;

  private record Target(MethodDescriptor<?, ?> method, Message seed, ManagedChannel as) {}

  @BeforeEach
  void start() throws Exception {
    random = new Random(SEED);
    hub = new HubFixture(data, Map.of("enroll-rate", "1000000/1s", "announce-rate", "1000000/1s"));
  }

  @AfterEach
  void stop() {
    hub.close();
  }

  private static final MethodDescriptor.Marshaller<byte[]> RAW = io.meshwire.hub.api.PreEncodedMarshaller.INSTANCE;


  @Test
  void mutatedRequestsOnEveryMethodNeverBreakTheHubOrItsStore() throws Exception {
    TlsCredentials eastCreds = hub.enroll("east");
    TlsCredentials westCreds = hub.enroll("west");
    ManagedChannel anonymous = hub.channel(null);
    ManagedChannel east = hub.channel(eastCreds);
    ManagedChannel west = hub.channel(westCreds);
    ManagedChannel admin = hub.channel(hub.admin());
    RendezvousGrpc.newBlockingStub(east).announce(AnnounceRequest.newBuilder()
        .setRecord(HubFixture.record("east", 1, 1)).build());
    RendezvousGrpc.newBlockingStub(west).announce(AnnounceRequest.newBuilder()
        .setRecord(HubFixture.record("west", 2, 1)).build());
    String token = hub.createToken("north");
    byte[] csr = Csrs.create(Csrs.newKeyPair(), new SpiffeId(hub.ca().mesh(), Role.CLUSTER, "east"));

    List<Target> targets = new ArrayList<>();
    List<ManagedChannel> everyone = List.of(anonymous, east, west, admin);
    Map<MethodDescriptor<?, ?>, Message> seeds = new java.util.LinkedHashMap<>();
    seeds.put(EnrollmentGrpc.getEnrollMethod(), EnrollRequest.newBuilder().setJoinToken(token)
        .setCsrDer(ByteString.copyFrom(csr)).build());
    seeds.put(EnrollmentGrpc.getRenewMethod(), RenewRequest.newBuilder().setCsrDer(ByteString.copyFrom(csr)).build());
    seeds.put(RendezvousGrpc.getAnnounceMethod(), AnnounceRequest.newBuilder()
        .setRecord(HubFixture.record("east", 1, 2)).build());
    seeds.put(RendezvousGrpc.getPublishViewsMethod(), PublishViewsRequest.newBuilder()
        .addViews(PeerView.newBuilder().setSubjectClusterId("west").setGeneration(1)
            .addMappings(CidrMapping.newBuilder().setOriginal("10.2.0.0/16").setSeenAs("10.99.0.0/16")))
        .addWithdrawnSubjectClusterIds("west").build());
    seeds.put(RendezvousGrpc.getReportStatusMethod(), ReportStatusRequest.newBuilder()
        .addPeers(PeerLinkStatus.newBuilder().setPeerClusterId("west").setEndpoint("198.18.0.2:51820")).build());
    seeds.put(RendezvousGrpc.getWatchMethod(), WatchRequest.newBuilder().setSinceRevision(1).setMeshUid("x").build());
    seeds.put(MeshAdminGrpc.getListClustersMethod(), ListClustersRequest.getDefaultInstance());
    seeds.put(MeshAdminGrpc.getGetClusterMethod(), GetClusterRequest.newBuilder().setClusterId("east").build());
    seeds.put(MeshAdminGrpc.getGetMeshStatusMethod(), GetMeshStatusRequest.getDefaultInstance());
    seeds.put(MeshAdminGrpc.getListJoinTokensMethod(), ListJoinTokensRequest.getDefaultInstance());
    seeds.put(MeshAdminGrpc.getCreateJoinTokenMethod(), CreateJoinTokenRequest.newBuilder().setClusterId("south")
        .build());
    seeds.put(MeshAdminGrpc.getWatchAuditMethod(), WatchAuditRequest.getDefaultInstance());
    io.meshwire.proto.policy.v1.Selector prod = io.meshwire.proto.policy.v1.Selector.newBuilder()
        .putMatchLabels("env", "prod").addMatchExpressions(io.meshwire.proto.policy.v1.LabelRequirement.newBuilder()
            .setKey("team").setOperator("In").addValues("a")).addNames("east").build();
    io.meshwire.proto.policy.v1.PeeringPolicy policy = io.meshwire.proto.policy.v1.PeeringPolicy.newBuilder()
        .setName("prod").setClusters(prod).setPeers(prod)
        .setMode(io.meshwire.proto.policy.v1.PeeringMode.PEERING_MODE_RELAY_ONLY).build();
    seeds.put(MeshAdminGrpc.getApplyPolicyMethod(), io.meshwire.proto.admin.v1.ApplyPolicyRequest.newBuilder()
        .setPolicy(policy).build());
    seeds.put(MeshAdminGrpc.getSetClusterLabelsMethod(), io.meshwire.proto.admin.v1.SetClusterLabelsRequest.newBuilder()
        .setClusterId("east").putSet("env", "prod").addRemove("team").build());
    seeds.put(MeshAdminGrpc.getListPoliciesMethod(), io.meshwire.proto.admin.v1.ListPoliciesRequest.getDefaultInstance());
    seeds.put(MeshAdminGrpc.getGetPolicyMethod(), io.meshwire.proto.admin.v1.GetPolicyRequest.newBuilder()
        .setName("prod").build());
    seeds.put(MeshAdminGrpc.getDeletePolicyMethod(), io.meshwire.proto.admin.v1.DeletePolicyRequest.newBuilder()
        .setName("prod").build());
    seeds.put(MeshAdminGrpc.getExplainPeeringMethod(), io.meshwire.proto.admin.v1.ExplainPeeringRequest.newBuilder()
        .setClusterA("east").setClusterB("west").build());
    seeds.put(HealthGrpc.getCheckMethod(), HealthCheckRequest.getDefaultInstance());
    // Removal and revocation would take the fuzzing identities out; the rejections tests cover them.
    seeds.forEach((method, seed) -> everyone.forEach(ch -> targets.add(new Target(method, seed, ch))));

    Map<String, Integer> outcomes = new TreeMap<>();
    long calls = 0;
    long deadline = System.nanoTime() + BUDGET.toNanos();
    while (System.nanoTime() < deadline) {
      Target t = targets.get(random.nextInt(targets.size()));
      byte[] input = mutate(t.seed());
      long before = revision(admin);
      Status status = call(t, input);
      calls++;
      outcomes.merge(t.method().getBareMethodName() + " " + status.getCode(), 1, Integer::sum);
      assertTrue(!NEVER.contains(status.getCode()), "seed " + SEED + ": " + t.method().getFullMethodName()
          + " answered " + status + " to " + input.length + " bytes");
      if (!status.isOk() && status.getCode() != Status.Code.DEADLINE_EXCEEDED) {
        assertEquals(before, revision(admin), "seed " + SEED + ": refused " + t.method().getFullMethodName()
            + " (" + status + ") changed the store");
      }
    }
    // Keeps answering, and what it stored reads back after a restart.
    HealthGrpc.newBlockingStub(anonymous).check(HealthCheckRequest.getDefaultInstance());
    ListClustersResponse stored = MeshAdminGrpc.newBlockingStub(admin).listClusters(ListClustersRequest.getDefaultInstance());
    hub.restart();
    ListClustersResponse back = MeshAdminGrpc.newBlockingStub(hub.channel(hub.admin()))
        .listClusters(ListClustersRequest.getDefaultInstance());
    assertEquals(stored.getRevision(), back.getRevision());
    assertEquals(stored.getClustersList().stream().map(c -> c.getRecord()).toList(),
        back.getClustersList().stream().map(c -> c.getRecord()).toList());
    System.out.println("hub fuzz: seed=" + SEED + " calls=" + calls + " seconds=" + BUDGET.toSeconds() + " outcomes="
        + outcomes);
    assertTrue(calls > 50, "only " + calls + " calls in " + BUDGET);
  }

  private static long revision(ManagedChannel admin) {
    return MeshAdminGrpc.newBlockingStub(admin).withDeadlineAfter(10, TimeUnit.SECONDS)
        .listClusters(ListClustersRequest.getDefaultInstance()).getRevision();
  }

  /** Sends {@code input} as the request; the call's final status (streams: after a short look). */
  private static Status call(Target t, byte[] input) {
    MethodDescriptor<byte[], byte[]> raw = t.method().toBuilder(RAW, RAW).build();
    try {
      if (raw.getType() == MethodDescriptor.MethodType.UNARY) {
        ClientCalls.blockingUnaryCall(t.as(), raw, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), input);
      } else {
        Iterator<byte[]> events = ClientCalls.blockingServerStreamingCall(t.as(), raw,
            CallOptions.DEFAULT.withDeadlineAfter(300, TimeUnit.MILLISECONDS), input);
        for (int i = 0; i < 1000 && events.hasNext(); i++) {
          events.next();
        }
      }
      return Status.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus();
    }
  }

  /** One of: the seed as is, a few field-level mutations, or byte-level damage of the encoding. */
  private byte[] mutate(Message seed) {
    int kind = random.nextInt(10);
    if (kind == 0) {
      return seed.toByteArray();
    }
    if (kind <= 6) {
      Message.Builder b = seed.toBuilder();
      for (int i = 1 + random.nextInt(3); i > 0; i--) {
        mutateField(b, 0);
      }
      return b.build().toByteArray();
    }
    byte[] bytes = seed.toByteArray();
    return switch (kind) {
      case 7 -> {
        byte[] out = bytes.clone();
        for (int i = 0; i < 1 + random.nextInt(4) && out.length > 0; i++) {
          out[random.nextInt(out.length)] ^= (byte) (1 << random.nextInt(8));
        }
        yield out;
      }
      case 8 -> java.util.Arrays.copyOf(bytes, bytes.length == 0 ? 0 : random.nextInt(bytes.length));
      default -> {
        byte[] out = new byte[random.nextInt(64)];
        random.nextBytes(out);
        yield out;
      }
    };
  }

  private void mutateField(Message.Builder b, int depth) {
    List<FieldDescriptor> fields = b.getDescriptorForType().getFields();
    if (fields.isEmpty()) {
      return;
    }
    FieldDescriptor f = fields.get(random.nextInt(fields.size()));
    if (random.nextInt(6) == 0) {
      b.clearField(f);
      return;
    }
    if (f.isMapField()) {
      return; // labels: covered through the record's other fields
    }
    if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
      if (depth > 3) {
        return;
      }
      if (f.isRepeated()) {
        if (b.getRepeatedFieldCount(f) == 0 || random.nextBoolean()) {
          Message.Builder child = b.newBuilderForField(f);
          mutateField(child, depth + 1);
          b.addRepeatedField(f, child.build());
        } else {
          int i = random.nextInt(b.getRepeatedFieldCount(f));
          Message.Builder child = ((Message) b.getRepeatedField(f, i)).toBuilder();
          mutateField(child, depth + 1);
          b.setRepeatedField(f, i, child.build());
        }
      } else {
        Message.Builder child = ((Message) b.getField(f)).toBuilder();
        mutateField(child, depth + 1);
        b.setField(f, child.build());
      }
      return;
    }
    Object value = value(f);
    if (value == null) {
      return;
    }
    if (f.isRepeated()) {
      int n = random.nextInt(4) == 0 ? 20 : 1;
      for (int i = 0; i < n; i++) {
        b.addRepeatedField(f, value);
      }
    } else {
      b.setField(f, value);
    }
  }

  private Object value(FieldDescriptor f) {
    long n = NUMBERS.get(random.nextInt(NUMBERS.size()));
    return switch (f.getJavaType()) {
      case STRING -> STRINGS.get(random.nextInt(STRINGS.size()));
      case LONG -> n;
      case INT -> (int) n;
      case BOOLEAN -> random.nextBoolean();
      case BYTE_STRING -> {
        byte[] bytes = new byte[List.of(0, 1, 31, 32, 33, 9000).get(random.nextInt(6))];
        random.nextBytes(bytes);
        yield ByteString.copyFrom(bytes);
      }
      case ENUM -> f.getEnumType().getValues().get(random.nextInt(f.getEnumType().getValues().size()));
      default -> null;
    };
  }
}
