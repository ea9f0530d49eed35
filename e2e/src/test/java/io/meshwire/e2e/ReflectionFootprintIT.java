package io.meshwire.e2e;

import static io.meshwire.reflection.kube.KubeObjects.endpoint;
import static io.meshwire.reflection.kube.KubeObjects.service;
import static io.meshwire.reflection.kube.KubeObjects.slice;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kubernetes.client.openapi.ApiClient;
import io.meshwire.reflection.kube.FakeApiServer;
import io.meshwire.reflection.kube.KubeApis;
import io.meshwire.reflection.kube.KubeObjects;
import io.meshwire.netlab.lab.MeshLab;
import io.meshwire.netlab.lab.ProcessFootprint;
import io.meshwire.testsupport.netns.Requirements;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's footprint with Multi-Cluster Services reflection: a benchmark, not a check (it
 * asserts only that reflection happened). It runs only when asked, because it idles for minutes:
 * {@code ./mvnw -pl e2e verify -Dit.test=ReflectionFootprintIT -Dmeshwire.bench.services=100}
 * ({@code -Dmeshwire.bench.runs=3}, {@code -Dmeshwire.bench.settle-seconds=10}).
 *
 * <p>Clusters a and b each export that many Services (one endpoint each) and import the other's,
 * through fake API servers (the fabric8 mock the reflection tests use); then a's agent, with the
 * jar's own JVM options and its class data sharing archive, is restarted {@code runs} times and,
 * after READY, its tunnel to b and {@code settle} seconds, measured like {@code bench agent}
 * (load-tests): RSS, PSS, private memory, threads, start to READY. The README of load-tests has
 * the results table; the bench itself lives in load-tests, whose class path (jetcd's Vert.x 4)
 * cannot hold the mock server (Vert.x 5), hence this class.
 */
class ReflectionFootprintIT {

  private static final Logger log = LoggerFactory.getLogger(ReflectionFootprintIT.class);
  private static final String NS = "bench";

  @Test
  void agentFootprintWithReflectedServices() throws Exception {
    int services = Integer.getInteger("meshwire.bench.services", 0);
    Assumptions.assumeTrue(services > 0, "a benchmark: set -Dmeshwire.bench.services=N to run it");
    int runs = Integer.getInteger("meshwire.bench.runs", 3);
    Duration settle = Duration.ofSeconds(Integer.getInteger("meshwire.bench.settle-seconds", 10));
    Requirements.check().enforce();
    Path work = Path.of(System.getProperty("meshwire.workdir", "target/e2e-work")).resolve("footprint-" + System.nanoTime());
    try (FakeApiServer apiA = new FakeApiServer(); FakeApiServer apiB = new FakeApiServer();
        MeshLab lab = MeshLab.start(work, Path.of(System.getProperty("meshwire.jar", "../cli/target/meshwire.jar")))) {
      lab.addClusterWithApiServer("b", "10.102.0.0/16", apiB.port(), List.of());
      lab.addClusterWithApiServer("a", "10.101.0.0/16", apiA.port(), List.of());
      lab.awaitFullMesh(List.of("a", "b"), Duration.ofSeconds(60));
      export(apiA.client(), lab.cluster("a").workloadAddress(), services);
      export(apiB.client(), lab.cluster("b").workloadAddress(), services);
      MeshLab.awaitTrue(() -> imports(apiA.client()) == services && imports(apiB.client()) == services,
          Duration.ofSeconds(120), services + " ServiceImports in a and in b");

      List<double[]> samples = new ArrayList<>(); // ready ms, rss, pss, private MiB, threads
      for (int r = 0; r < runs; r++) {
        lab.stopAgent("a");
        Duration ready = lab.startAgent("a");
        MeshLab.awaitTrue(() -> lab.ping("a", "b", 1), Duration.ofSeconds(60), "a's tunnel to b after the restart");
        Thread.sleep(settle); // a fixed idle dwell before measuring, not a wait for a condition
        assertTrue(imports(apiA.client()) == services, "a still imports b's services");
        ProcessFootprint f = ProcessFootprint.of(lab.agentPid("a"));
        samples.add(new double[] {ready.toMillis(), mib(f.rssBytes()), mib(f.pssBytes()), mib(f.privateBytes()),
            f.threads()});
        log.info("footprint services={} run={} ready_ms={} rss_mib={} pss_mib={} private_mib={} threads={} names={}",
            services, r + 1, ready.toMillis(), mib(f.rssBytes()), mib(f.pssBytes()), mib(f.privateBytes()),
            f.threads(), f.threadsByName());
      }
      log.info(String.format(Locale.ROOT, "footprint services=%d medians of %d: ready_ms=%.0f rss_mib=%.1f pss_mib=%.1f"
          + " private_mib=%.1f threads=%.0f", services, runs, median(samples, 0), median(samples, 1),
          median(samples, 2), median(samples, 3), median(samples, 4)));
    }
  }

  private static void export(ApiClient kube, String address, int count) {
    for (int i = 0; i < count; i++) {
      String name = "svc-" + i;
      assertTrue(KubeApis.services(kube).create(service(NS, name, 80)).isSuccess());
      assertTrue(KubeApis.endpointSlices(kube).create(slice(NS, name + "-1", name, 8080, endpoint(address, true)))
          .isSuccess());
      assertTrue(KubeApis.serviceExports(kube).create(KubeObjects.export(NS, name, null)).isSuccess());
    }
  }

  private static int imports(ApiClient kube) {
    return KubeApis.serviceImports(kube).list(NS).getObject().getItems().size();
  }

  private static double mib(long bytes) {
    return Math.round(bytes / 1024.0 / 1024.0 * 10) / 10.0;
  }

  private static double median(List<double[]> samples, int field) {
    double[] v = samples.stream().mapToDouble(s -> s[field]).toArray();
    Arrays.sort(v);
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }
}
