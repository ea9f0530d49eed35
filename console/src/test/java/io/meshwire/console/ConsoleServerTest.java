package io.meshwire.console;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.meshwire.hub.HubFixture;
import io.meshwire.netaddr.HostPort;
import io.meshwire.proto.admin.v1.MeshAdminGrpc;
import io.meshwire.proto.admin.v1.RevokeClusterRequest;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The console against a real hub in this process (TLS on 127.0.0.1), spoken to over plain HTTP. */
class ConsoleServerTest {

  @TempDir Path dir;
  private HubFixture hub;
  private SimulatedMesh mesh;
  private ConsoleServer console;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void meshOfTwo() throws Exception {
    hub = new HubFixture(dir.resolve("hub"));
    mesh = new SimulatedMesh(hub);
    mesh.join("east", 1, Map.of("region", "eu"));
    mesh.join("west", 2, Map.of("region", "us"));
    mesh.report("east", Map.of("west", true));
    mesh.report("west", Map.of("east", false));
  }

  @AfterEach
  void close() {
    if (console != null) {
      console.close();
    }
    mesh.close();
    hub.close();
  }

  private ConsoleServer start(ManagedChannel channel) {
    ConsoleConfig config = new ConsoleConfig(HostPort.parseListen("127.0.0.1:0"), "127.0.0.1:" + hub.port(),
        Duration.ofMillis(500));
    console = ConsoleServer.start(config, channel, InstantSource.system());
    return console;
  }

  private JsonObject state() throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(console.url() + "api/state")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    return JsonParser.parseString(r.body()).getAsJsonObject();
  }

  @Test
  void servesTheClustersAndLinkReportsTheHubKnows() throws Exception {
    start(hub.channel(hub.admin()));
    await().atMost(Duration.ofSeconds(5)).until(() -> state().getAsJsonObject("hub").get("connection").getAsString(),
        "CONNECTED"::equals);
    JsonObject mesh = state().getAsJsonObject("mesh");
    assertEquals(hub.hub().membership().meshUid(), mesh.get("meshUid").getAsString());
    assertEquals(2, mesh.getAsJsonArray("clusters").size());
    String text = mesh.toString();
    assertTrue(text.contains("\"podCidrs\":[\"10.1.0.0/16\"]"), text);
    assertTrue(text.contains("\"region\":\"us\""), text);
    assertTrue(text.contains("\"fromClusterId\":\"east\",\"toClusterId\":\"west\""), text);
    assertTrue(text.contains("LINK_STATE_DOWN"), text);
    assertFalse(state().get("stale").getAsBoolean());
  }

  @Test
  void streamsARevocationToAnOpenPageWithinTwoSeconds() throws Exception {
    start(hub.channel(hub.admin()));
    BlockingQueue<String> events = new LinkedBlockingQueue<>();
    HttpResponse<java.util.stream.Stream<String>> stream = http.send(
        HttpRequest.newBuilder(URI.create(console.url() + "api/events")).build(), HttpResponse.BodyHandlers.ofLines());
    assertEquals("text/event-stream; charset=utf-8", stream.headers().firstValue("Content-Type").orElseThrow());
    Thread reader = Thread.ofVirtual().start(() -> {
      try {
        stream.body().filter(l -> l.startsWith("data: ")).forEach(l -> events.add(l.substring(6)));
      } catch (java.io.UncheckedIOException closedByTheTest) {
        // the finally block below closed the stream
      }
    });
    try {
      await().atMost(Duration.ofSeconds(5)).until(() -> last(events).contains("\"clusterId\":\"west\""));
      events.clear();
      long revokedAt = System.nanoTime();
      MeshAdminGrpc.newBlockingStub(hub.channel(hub.admin()))
          .revokeCluster(RevokeClusterRequest.newBuilder().setClusterId("west").setReason("test").build());
      String after;
      do {
        after = events.poll(2, TimeUnit.SECONDS);
      } while (after != null && after.contains("\"clusterId\":\"west\""));
      assertTrue(after != null && System.nanoTime() - revokedAt < Duration.ofSeconds(2).toNanos(),
          "no state without west within 2 s of the revocation");
      assertTrue(after.contains("cluster.revoked"), "the audit stream shows the revocation: " + after);
    } finally {
      stream.body().close();
      reader.interrupt();
    }
  }

  private static String last(BlockingQueue<String> events) {
    String last = "";
    for (String e : events) {
      last = e;
    }
    return last;
  }

  @Test
  void keepsTheLastKnownMeshMarkedStaleWhileTheHubIsDownAndRecovers() throws Exception {
    start(hub.channel(hub.admin()));
    await().atMost(Duration.ofSeconds(5)).until(() -> state().getAsJsonObject("hub").get("connection").getAsString(),
        "CONNECTED"::equals);
    hub.hub().close();
    await().atMost(Duration.ofSeconds(5)).until(() -> state().getAsJsonObject("hub").get("connection").getAsString(),
        "UNREACHABLE"::equals);
    JsonObject down = state();
    assertTrue(down.get("stale").getAsBoolean());
    assertEquals(2, down.getAsJsonObject("mesh").getAsJsonArray("clusters").size(), "last known mesh kept");
    assertTrue(down.getAsJsonObject("hub").get("detail").getAsString().startsWith("UNAVAILABLE"), down.toString());
    hub.restart();
    await().atMost(Duration.ofSeconds(10)).until(() -> state().getAsJsonObject("hub").get("connection").getAsString(),
        "CONNECTED"::equals);
    assertFalse(state().get("stale").getAsBoolean());
  }

  @Test
  void saysTheHubRefusedCredentialsThatAreNotAnAdmins() throws Exception {
    start(hub.channel(hub.enroll("north"))); // a cluster certificate: MeshAdmin is refused
    await().atMost(Duration.ofSeconds(5)).until(() -> state().getAsJsonObject("hub").get("connection").getAsString(),
        "REFUSED"::equals);
    JsonObject s = state();
    assertTrue(s.getAsJsonObject("hub").get("detail").getAsString().startsWith("PERMISSION_DENIED"), s.toString());
    assertTrue(s.get("mesh").isJsonNull());
  }

  @Test
  void saysTheHubIsUnreachableAndKeepsTrying() throws Exception {
    int closed;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = s.getLocalPort();
    }
    ManagedChannel nowhere = ManagedChannelBuilder.forAddress("127.0.0.1", closed).usePlaintext().build();
    try {
      start(nowhere);
      await().atMost(Duration.ofSeconds(5)).until(() -> state().getAsJsonObject("hub").get("connection").getAsString(),
          "UNREACHABLE"::equals);
      assertTrue(state().getAsJsonObject("hub").get("detail").getAsString().contains("UNAVAILABLE"));
    } finally {
      console.close();
      console = null;
      nowhere.shutdownNow();
    }
  }

  @Test
  void refusesRequestsFromAnotherOriginWithoutCorsHeaders() throws Exception {
    start(hub.channel(hub.admin()));
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(console.url() + "api/state"))
        .header("Origin", "http://evil.example").build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(403, r.statusCode());
    assertTrue(r.body().contains("Origin \"http://evil.example\" is another site"), r.body());
    assertTrue(r.headers().map().keySet().stream().noneMatch(h -> h.toLowerCase().startsWith("access-control-")),
        r.headers().toString());
    HttpResponse<String> page = http.send(HttpRequest.newBuilder(URI.create(console.url())).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, page.statusCode());
    assertTrue(page.headers().firstValue("Content-Security-Policy").orElseThrow().contains("default-src 'none'"));
  }

  @Test
  void refusesARequestForAnotherHostAsDnsRebindingSendsIt() throws Exception {
    start(hub.channel(hub.admin()));
    String response = rawGet("/api/state", "rebind.example:" + console.port());
    assertTrue(response.startsWith("HTTP/1.1 403"), response);
    assertFalse(response.contains("meshUid"), response);
    assertTrue(rawGet("/api/state", "localhost:" + console.port()).startsWith("HTTP/1.1 200"));
  }

  private String rawGet(String path, String host) throws Exception {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), console.port())) {
      OutputStream out = s.getOutputStream();
      out.write(("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void aPortInUseIsAClearError() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      ConsoleConfig config = new ConsoleConfig(HostPort.parseListen("127.0.0.1:" + taken.getLocalPort()),
          "127.0.0.1:" + hub.port(), Duration.ofSeconds(1));
      var e = assertThrows(IllegalStateException.class,
          () -> ConsoleServer.start(config, hub.channel(hub.admin()), InstantSource.system()));
      assertEquals("--listen 127.0.0.1:" + taken.getLocalPort() + ": address already in use (another console or"
          + " program has this port; pick another with --listen 127.0.0.1:PORT)", e.getMessage());
    }
    assertNull(console);
  }

  @Test
  void answersOnlyGet() throws Exception {
    start(hub.channel(hub.admin()));
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(console.url() + "api/state"))
        .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(405, r.statusCode());
    assertEquals(404, http.send(HttpRequest.newBuilder(URI.create(console.url() + "../etc/passwd")).build(),
        HttpResponse.BodyHandlers.ofString()).statusCode());
  }

}
