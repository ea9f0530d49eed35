package io.meshwire.reflection.kube;

import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.util.ClientBuilder;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;

/**
 * {@code FakeApiServer} is a Kubernetes API for tests: fabric8's mock server in CRUD mode (objects
 * are stored, resourceVersions assigned, label selectors honoured) that knows the MCS CRDs, behind
 * a {@link ChunkedWatchBridge} so the official client's informers watch it like a real API server.
 */
public final class FakeApiServer implements AutoCloseable {

  /**
   * The mock logs every request at INFO through java.util.logging, straight to stderr: thousands of
   * lines per test. Held here because JUL keeps loggers only weakly.
   */
  private static final java.util.logging.Logger MOCK_LOG = quiet("io.fabric8.mockwebserver");

  private final KubernetesMockServer mock;
  private final ChunkedWatchBridge bridge;

  public FakeApiServer() throws IOException {
    List<CustomResourceDefinitionContext> crds = List.of(crd("ServiceExport", "serviceexports"),
        crd("ServiceImport", "serviceimports"));
    mock = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
        new KubernetesCrudDispatcher(crds), false);
    mock.init(InetAddress.getLoopbackAddress(), 0);
    bridge = new ChunkedWatchBridge(URI.create("http://127.0.0.1:" + mock.getPort()));
  }

  private static java.util.logging.Logger quiet(String name) {
    java.util.logging.Logger logger = java.util.logging.Logger.getLogger(name);
    logger.setLevel(java.util.logging.Level.WARNING);
    return logger;
  }

  private static CustomResourceDefinitionContext crd(String kind, String plural) {
    return new CustomResourceDefinitionContext.Builder().withGroup(Mcs.GROUP).withVersion(Mcs.VERSION)
        .withKind(kind).withPlural(plural).withScope("Namespaced").withStatusSubresource(true).build();
  }

  /** The port on 127.0.0.1 where clients connect (the bridge in front of the mock). */
  public int port() {
    return URI.create(bridge.url()).getPort();
  }

  /** Whether the MCS CRDs look installed: when not, their API group answers 404. */
  public void mcsCrdsInstalled(boolean installed) {
    bridge.hide(installed ? null : "/apis/" + Mcs.GROUP + "/");
  }

  /** A new client of this API; read timeout 0 as informers' long watches need. */
  public ApiClient client() {
    ApiClient client = new ClientBuilder().setBasePath(bridge.url()).setReadTimeout(Duration.ZERO).build();
    return client;
  }

  @Override
  public void close() {
    bridge.close();
    mock.destroy();
  }
}
