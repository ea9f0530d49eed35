package io.meshwire.reflection.kube;

import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.util.ClientBuilder;
import io.kubernetes.client.util.KubeConfig;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** {@code KubeClients} builds the official client's {@link ApiClient} from the agent's kubeconfig setting. */
public final class KubeClients {

  /** The {@code kubeconfig} value that means "the cluster this pod runs in". */
  public static final String IN_CLUSTER = "in-cluster";

  private KubeClients() {}

  /**
   * A client of the API server in {@code kubeconfig} (or of this pod's own cluster for
   * {@value #IN_CLUSTER}), with no read timeout (informers hold long watches).
   */
  public static ApiClient fromKubeconfig(Path kubeconfig) throws IOException {
    if (kubeconfig.toString().equals(IN_CLUSTER)) {
      // Inside a pod: the service account's token and CA, and KUBERNETES_SERVICE_HOST/PORT.
      return ClientBuilder.cluster().setReadTimeout(Duration.ZERO).build();
    }
    try (Reader reader = Files.newBufferedReader(kubeconfig)) {
      KubeConfig config = KubeConfig.loadKubeConfig(reader);
      config.setFile(kubeconfig.toFile()); // relative certificate paths resolve against it
      return ClientBuilder.kubeconfig(config).setReadTimeout(Duration.ZERO).build();
    }
  }
}
