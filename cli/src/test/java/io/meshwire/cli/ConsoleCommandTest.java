package io.meshwire.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.hub.HubFixture;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code meshwire console} against a real hub in this JVM. */
class ConsoleCommandTest {

  @TempDir Path data;
  private HubFixture hub;

  @BeforeEach
  void startHub() throws Exception {
    hub = new HubFixture(data);
  }

  @AfterEach
  void stopHub() {
    hub.close();
  }

  @Test
  void printsTheUrlAndServesThePageUntilInterrupted() throws Exception {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    AtomicInteger exit = new AtomicInteger(-1);
    Thread command = Thread.ofPlatform().start(() -> exit.set(Main.commandLine(InstantSource.system(),
        new PrintWriter(out, true), new PrintWriter(err, true)).execute("console", "--hub", "127.0.0.1:" + hub.port(),
        "--credentials", data.resolve("admin").toString(), "--listen", "127.0.0.1:0")));
    try {
      Pattern url = Pattern.compile("meshwire console: (http://127\\.0\\.0\\.1:\\d+/) ");
      await().atMost(Duration.ofSeconds(20)).until(() -> url.matcher(out.toString()).find());
      Matcher m = url.matcher(out.toString());
      assertTrue(m.find());
      HttpResponse<String> state = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(URI.create(m.group(1) + "api/state")).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, state.statusCode());
      assertTrue(state.body().contains("\"address\":\"127.0.0.1:" + hub.port() + "\""), state.body());
    } finally {
      command.interrupt();
      command.join(Duration.ofSeconds(10));
    }
    assertEquals(0, exit.get(), err.toString());
  }

  @Test
  void aPortInUseIsAClearError() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      CliRun run = CliRun.of("console", "--hub", "127.0.0.1:" + hub.port(), "--credentials",
          data.resolve("admin").toString(), "--listen", "127.0.0.1:" + taken.getLocalPort());
      assertEquals(1, run.exitCode(), run.toString());
      assertEquals("meshwire: --listen 127.0.0.1:" + taken.getLocalPort() + ": address already in use (another"
          + " console or program has this port; pick another with --listen 127.0.0.1:PORT)\n", run.err());
    }
  }

  @Test
  void refusesToServeBeyondThisMachine() {
    CliRun run = CliRun.of("console", "--hub", "127.0.0.1:" + hub.port(), "--credentials",
        data.resolve("admin").toString(), "--listen", "0.0.0.0:8080");
    assertEquals(2, run.exitCode(), run.toString());
    assertTrue(run.err().contains("--listen 0.0.0.0:8080: the console serves this machine only"), run.toString());
  }
}
