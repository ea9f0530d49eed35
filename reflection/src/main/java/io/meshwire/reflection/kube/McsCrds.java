package io.meshwire.reflection.kube;

import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.util.generic.KubernetesApiResponse;
import io.kubernetes.client.util.generic.options.ListOptions;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code McsCrds} asks the API server whether it serves the two Multi-Cluster Services kinds
 * reflection needs (ServiceExport, ServiceImport of {@value Mcs#API_VERSION}). They come from CRDs
 * that a cluster may not have installed; without them the export informer fails its list every
 * second (an ERROR with a stack trace each time) and every import write fails, so reflection asks
 * first. One list call per kind, at most one object. Stateless.
 */
public final class McsCrds {

  private McsCrds() {}

  /** The outcome of one check. */
  public sealed interface Served {
    /** Both kinds are served. */
    record Yes() implements Served {}

    /** The API server answered 404 for these kinds, e.g. {@code serviceexports.multicluster.x-k8s.io}. */
    record Missing(List<String> kinds) implements Served {
      public Missing {
        kinds = List.copyOf(kinds);
      }
    }

    /** The check itself failed (API server unreachable, access denied, ...): unknown. */
    record Unknown(String reason) implements Served {}
  }

  public static Served check(ApiClient client) {
    List<String> missing = new ArrayList<>();
    try {
      if (notFound(KubeApis.serviceExports(client).list(probe()), "serviceexports")) {
        missing.add("serviceexports." + Mcs.GROUP);
      }
      if (notFound(KubeApis.serviceImports(client).list(probe()), "serviceimports")) {
        missing.add("serviceimports." + Mcs.GROUP);
      }
    } catch (UnknownAnswer e) {
      return new Served.Unknown(e.getMessage());
    } catch (RuntimeException e) {
      return new Served.Unknown(e.toString());
    }
    return missing.isEmpty() ? new Served.Yes() : new Served.Missing(missing);
  }

  private static ListOptions probe() {
    ListOptions options = new ListOptions();
    options.setLimit(1);
    return options;
  }

  private static boolean notFound(KubernetesApiResponse<?> response, String plural) {
    if (response.isSuccess()) {
      return false;
    }
    if (response.getHttpStatusCode() == 404) {
      return true;
    }
    var status = response.getStatus();
    throw new UnknownAnswer("listing " + plural + ": HTTP " + response.getHttpStatusCode()
        + (status == null || status.getMessage() == null ? "" : " " + status.getMessage()));
  }

  private static final class UnknownAnswer extends RuntimeException {
    UnknownAnswer(String message) {
      super(message, null, false, false);
    }
  }
}
