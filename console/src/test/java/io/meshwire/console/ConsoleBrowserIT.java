package io.meshwire.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Timestamp;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import io.meshwire.hub.HubFixture;
import io.meshwire.netaddr.HostPort;
import io.meshwire.proto.admin.v1.AuditEvent;
import io.meshwire.proto.admin.v1.Cluster;
import io.meshwire.proto.admin.v1.GetMeshStatusRequest;
import io.meshwire.proto.admin.v1.LinkStatus;
import io.meshwire.proto.admin.v1.ListClustersRequest;
import io.meshwire.proto.admin.v1.ListClustersResponse;
import io.meshwire.proto.admin.v1.MeshAdminGrpc;
import io.meshwire.proto.admin.v1.MeshStatus;
import io.meshwire.proto.admin.v1.WatchAuditRequest;
import io.meshwire.proto.rendezvous.v1.LinkState;
import io.meshwire.proto.rendezvous.v1.PeerLinkStatus;
import io.meshwire.proto.admin.v1.RevokeClusterRequest;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The console page in a real headless Chromium (Debian's chromium and chromedriver), against a
 * real hub in this process with five enrolled clusters that announce, watch and report their
 * links: the page shows the clusters and link states, loses a revoked cluster within 2 s, and says
 * the hub is unreachable (keeping the last known mesh, marked stale) once the hub stops. Takes the
 * README's screenshot on the way. Skips without chromium and chromedriver unless
 * {@code MESHWIRE_E2E_REQUIRED=1}.
 */
class ConsoleBrowserIT {

  private static final String CHROMIUM = "/usr/bin/chromium";
  private static final String CHROMEDRIVER = "/usr/bin/chromedriver";
  private static final Duration WITHIN = Duration.ofSeconds(2);

  @TempDir Path dir;
  @TempDir static Path profile;
  /** One browser for both tests (starting chromium is the slow part on a busy machine). */
  private static WebDriver browser;

  @BeforeAll
  static void startChromium() throws Exception {
    requireBrowser();
    browser = chromium();
  }

  @AfterAll
  static void quitChromium() {
    if (browser != null) {
      browser.quit();
    }
  }

  @Test
  void showsTheLiveMeshLosesARevokedClusterAndSaysWhenTheHubIsGone() throws Exception {
    HubFixture hub = new HubFixture(dir.resolve("hub"), Map.of("mesh", "demo.mesh"));
    SimulatedMesh mesh = new SimulatedMesh(hub);
    ConsoleServer console = null;
    try {
      String[] ids = {"eu-west", "eu-central", "us-east", "us-west", "ap-south"};
      for (int i = 0; i < ids.length; i++) {
        mesh.join(ids[i], i + 1, Map.of("region", ids[i].substring(0, 2), "tier", i % 2 == 0 ? "prod" : "edge"));
      }
      // Every pair up, except ap-south <-> us-west (down both ways) and us-east -> ap-south (down one way).
      for (String from : ids) {
        Map<String, Boolean> peers = new java.util.LinkedHashMap<>();
        for (String to : ids) {
          if (!to.equals(from)) {
            boolean down = (from.equals("ap-south") && to.equals("us-west")) || (from.equals("us-west") && to.equals("ap-south"))
                || (from.equals("us-east") && to.equals("ap-south"));
            peers.put(to, !down);
          }
        }
        mesh.report(from, peers);
      }
      console = ConsoleServer.start(new ConsoleConfig(HostPort.parseListen("127.0.0.1:0"), "127.0.0.1:" + hub.port(),
          ConsoleConfig.DEFAULT_POLL), hub.channel(hub.admin()), InstantSource.system());
      browser.get(console.url());

      // 1. Clusters and link states.
      await(browser, Duration.ofSeconds(15), "5 clusters in the graph", d ->
          "CONNECTED".equals(d.findElement(By.tagName("body")).getDomAttribute("data-connection"))
              && d.findElements(By.cssSelector("#graph g.node")).size() == 5);
      assertEquals(5, count(browser, "#clusters tbody tr"));
      assertEquals("down", attr(browser, "#graph line[data-edge='ap-south|us-west']", "data-state"));
      assertEquals("down", attr(browser, "#graph line[data-edge='ap-south|us-east']", "data-state"), "one way down");
      assertEquals("up", attr(browser, "#graph line[data-edge='eu-central|eu-west']", "data-state"));
      assertEquals("up", attr(browser, "#links tr[data-link='ap-south>us-east']", "data-state"));
      assertEquals("down", attr(browser, "#links tr[data-link='us-east>ap-south']", "data-state"));
      assertEquals(20, count(browser, "#links tbody tr"), "5 x 4 directed links");
      String meshUid = browser.findElement(By.id("mesh-uid")).getText();
      assertEquals(hub.hub().membership().meshUid(), meshUid);
      assertTrue(browser.findElement(By.id("audit")).getText().contains("cluster.enrolled"));

      // The matrix, filtered by a label.
      click(browser, "#tab-matrix");
      assertEquals("down", attr(browser, "#matrix td[data-from='us-east'][data-to='ap-south']", "data-state"));
      assertEquals("up", attr(browser, "#matrix td[data-from='ap-south'][data-to='us-east']", "data-state"));
      browser.findElement(By.id("filter")).sendKeys("region=eu");
      await(browser, Duration.ofSeconds(5), "eu only", d -> count(d, "#matrix tbody tr") == 2);
      browser.findElement(By.id("filter")).sendKeys(Keys.chord(Keys.CONTROL, "a"), Keys.BACK_SPACE);
      await(browser, Duration.ofSeconds(5), "all 5 again", d -> count(d, "#matrix tbody tr") == 5);
      click(browser, "#tab-graph");

      // The README's picture: the graph with a cluster's details open.
      click(browser, "#graph g.node[data-cluster='us-east']");
      await(browser, Duration.ofSeconds(5), "details of us-east", d ->
          d.findElement(By.id("details")).getText().contains("10.3.0.0/16"));
      screenshot(browser, "console.png");

      // 2. A revoked cluster leaves the page within 2 s.
      MeshAdminGrpc.newBlockingStub(hub.channel(hub.admin())).revokeCluster(
          RevokeClusterRequest.newBuilder().setClusterId("ap-south").setReason("decommissioned").build());
      long revoked = System.nanoTime();
      await(browser, WITHIN, "ap-south gone", d -> d.findElements(By.cssSelector("[data-cluster='ap-south']")).isEmpty());
      Duration took = Duration.ofNanos(System.nanoTime() - revoked);
      System.out.println("console_revocation_visible_ms=" + took.toMillis());
      assertTrue(took.compareTo(WITHIN) <= 0, "took " + took);
      assertEquals(4, count(browser, "#graph g.node"));

      // 3. The hub stops: the page says so and keeps the last known mesh, marked stale.
      hub.hub().close();
      await(browser, Duration.ofSeconds(10), "hub unreachable on the page", d ->
          "UNREACHABLE".equals(d.findElement(By.tagName("body")).getDomAttribute("data-connection")));
      String banner = browser.findElement(By.id("banner")).getText();
      assertTrue(banner.contains("unreachable") && banner.contains("stale"), banner);
      assertTrue(browser.findElement(By.id("stale-mark")).isDisplayed());
      assertTrue(attr(browser, "body", "class").contains("stale"));
      assertEquals(4, count(browser, "#graph g.node"), "last known mesh still shown");
      assertEquals("hub unreachable", browser.findElement(By.id("hub-status")).getText());
    } finally {
      if (console != null) {
        console.close();
      }
      mesh.close();
      hub.close(); // channels, and the hub again when step 3 stopped it (closing twice is harmless)
    }
  }

  @Test
  void aMatrixOf200ClustersFiltersByLabelAndByProblem() throws Exception {
    String name = InProcessServerBuilder.generateName();
    Server fake = InProcessServerBuilder.forName(name).directExecutor().addService(new LargeMesh(200)).build().start();
    ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    ConsoleServer console = null;
    try {
      console = ConsoleServer.start(new ConsoleConfig(HostPort.parseListen("127.0.0.1:0"), "in-process",
          ConsoleConfig.DEFAULT_POLL), channel, InstantSource.system());
      browser.get(console.url());
      await(browser, Duration.ofSeconds(30), "a 200 x 200 matrix", d -> count(d, "#matrix tbody tr") == 200);
      System.out.println("console_render_200_clusters_ms=" + attr(browser, "body", "data-render-ms"));
      assertEquals(200 * 199, count(browser, "#matrix td[data-from]"));
      assertTrue(browser.findElement(By.id("matrix")).isDisplayed() && !browser.findElement(By.id("graph")).isDisplayed(),
          "above 60 clusters the matrix opens instead of the graph");
      assertEquals("down", attr(browser, "#matrix td[data-from='c-042'][data-to='c-043']", "data-state"));
      assertEquals("up", attr(browser, "#matrix td[data-from='c-043'][data-to='c-042']", "data-state"));
      assertEquals(LINK_ROWS + 1, count(browser, "#links tbody tr"), "a bounded links table and a 'more' row");
      assertEquals("down", attr(browser, "#links tbody tr:first-child", "data-state"), "links not up first");

      browser.findElement(By.id("filter")).sendKeys("region=eu");
      await(browser, Duration.ofSeconds(10), "every third cluster (in eu)", d -> count(d, "#matrix tbody tr") == 67);
      screenshot(browser, "console-matrix.png");
      browser.findElement(By.id("filter")).sendKeys(Keys.chord(Keys.CONTROL, "a"), Keys.BACK_SPACE);
      await(browser, Duration.ofSeconds(10), "all 200 again", d -> count(d, "#matrix tbody tr") == 200);
      click(browser, "#problems-only");
      assertEquals(4, count(browser, "#matrix tbody tr"), "c-007, c-150 (down both ways), c-042 -> c-043 (one way)");
    } finally {
      if (console != null) {
        console.close();
      }
      channel.shutdownNow();
      fake.shutdownNow();
    }
  }

  /** {@code LINK_ROWS} in console.js. */
  private static final int LINK_ROWS = 400;

  /**
   * A hub's admin API as it would answer for {@code n} clusters that all report all their links:
   * every link up but c-007 <-> c-150 (down both ways) and c-042 -> c-043. Only the page's scale is
   * under test here; the hub itself is real in the other test.
   */
  private static final class LargeMesh extends MeshAdminGrpc.MeshAdminImplBase {
    private final ListClustersResponse clusters;
    private final MeshStatus status;

    LargeMesh(int n) {
      ListClustersResponse.Builder c = ListClustersResponse.newBuilder().setRevision(n).setMeshUid("large-mesh");
      MeshStatus.Builder s = MeshStatus.newBuilder().setRevision(n).setMeshUid("large-mesh").setConnectedAgents(n);
      Timestamp now = Timestamp.newBuilder().setSeconds(System.currentTimeMillis() / 1000).build();
      for (int i = 0; i < n; i++) {
        c.addClusters(Cluster.newBuilder().setConnected(true).setRecord(HubFixture.record(id(i), i + 1, 1).toBuilder()
            .putLabels("region", new String[] {"eu", "us", "ap"}[i % 3])));
        for (int j = 0; j < n; j++) {
          if (i == j) {
            continue;
          }
          boolean down = (i == 7 && j == 150) || (i == 150 && j == 7) || (i == 42 && j == 43);
          s.addLinks(LinkStatus.newBuilder().setFromClusterId(id(i)).setToClusterId(id(j)).setObservedAt(now)
              .setStatus(PeerLinkStatus.newBuilder().setPeerClusterId(id(j))
                  .setState(down ? LinkState.LINK_STATE_DOWN : LinkState.LINK_STATE_UP)
                  .setLatestHandshake(now).setEndpoint("198.18." + (j / 250) + "." + (j % 250) + ":51820")
                  .setRxBytes(1000L * j).setTxBytes(1000L * i)));
        }
      }
      clusters = c.build();
      status = s.build();
    }

    private static String id(int i) {
      return String.format("c-%03d", i);
    }

    @Override
    public void listClusters(ListClustersRequest request, StreamObserver<ListClustersResponse> response) {
      response.onNext(clusters);
      response.onCompleted();
    }

    @Override
    public void getMeshStatus(GetMeshStatusRequest request, StreamObserver<MeshStatus> response) {
      response.onNext(status);
      response.onCompleted();
    }

    @Override
    public void watchAudit(WatchAuditRequest request, StreamObserver<AuditEvent> response) {
      // no events: the stream stays open, as the hub's does
    }
  }

  private static void requireBrowser() {
    List<String> missing = new ArrayList<>();
    if (!Files.isExecutable(Path.of(CHROMIUM))) {
      missing.add(CHROMIUM + " (Debian: apt-get install chromium)");
    }
    if (!Files.isExecutable(Path.of(CHROMEDRIVER))) {
      missing.add(CHROMEDRIVER + " (Debian: apt-get install chromium-driver)");
    }
    if (missing.isEmpty()) {
      return;
    }
    String message = "browser test needs " + String.join(" and ", missing);
    if ("1".equals(System.getenv("MESHWIRE_E2E_REQUIRED"))) {
      Assertions.fail(message + " (MESHWIRE_E2E_REQUIRED=1, so this fails instead of skipping)");
    }
    Assumptions.abort(message);
  }

  private static WebDriver chromium() throws Exception {
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM);
    options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--window-size=1440,1100", "--hide-scrollbars",
        "--user-data-dir=" + Files.createDirectories(profile.resolve("chromium-profile")));
    ChromeDriverService service = new ChromeDriverService.Builder()
        .usingDriverExecutable(new File(CHROMEDRIVER))
        .usingAnyFreePort()
        .build();
    return new ChromeDriver(service, options);
  }

  private static void await(WebDriver browser, Duration timeout, String what,
      java.util.function.Function<WebDriver, Boolean> condition) {
    new WebDriverWait(browser, timeout, Duration.ofMillis(50)).withMessage(what).until(condition::apply);
  }

  /**
   * An attribute read in one script call: the page re-renders on every update, so an element found
   * in one WebDriver call may be replaced by the next.
   */
  private static String attr(WebDriver browser, String css, String name) {
    Object v = ((JavascriptExecutor) browser).executeScript(
        "const e = document.querySelector(arguments[0]); return e ? e.getAttribute(arguments[1]) : null;", css, name);
    assertNotNull(v, "no " + css + " on the page");
    return (String) v;
  }

  private static long count(WebDriver browser, String css) {
    return (Long) ((JavascriptExecutor) browser).executeScript("return document.querySelectorAll(arguments[0]).length;", css);
  }

  /** Clicks what {@code css} finds, finding it again if an update replaced it in between. */
  private static void click(WebDriver browser, String css) {
    new WebDriverWait(browser, Duration.ofSeconds(5), Duration.ofMillis(50))
        .ignoring(StaleElementReferenceException.class)
        .until(d -> {
          d.findElement(By.cssSelector(css)).click();
          return true;
        });
  }

  /** Writes the picture to {@code meshwire.screenshots} (docs/ in the build), else target/. */
  private static void screenshot(WebDriver browser, String name) throws Exception {
    Path out = Path.of(System.getProperty("meshwire.screenshots", "target")).resolve(name);
    Files.createDirectories(out.toAbsolutePath().getParent());
    File shot = ((org.openqa.selenium.TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
    Files.copy(shot.toPath(), out, StandardCopyOption.REPLACE_EXISTING);
  }
}
