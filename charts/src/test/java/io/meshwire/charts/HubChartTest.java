package io.meshwire.charts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.marcnuri.helm.LintResult;
import io.kubernetes.client.openapi.models.V1ConfigMap;
import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1PodSpec;
import io.kubernetes.client.openapi.models.V1Secret;
import io.kubernetes.client.openapi.models.V1Service;
import io.kubernetes.client.openapi.models.V1StatefulSet;
import io.kubernetes.client.openapi.models.V1Volume;
import io.meshwire.hub.auth.RateLimits;
import io.meshwire.hub.server.HubConfig;
import io.meshwire.hub.server.HubMain;
import io.meshwire.netaddr.HostPort;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Helm lint and template of {@code meshwire-hub}, every manifest parsed into client-java's models. */
class HubChartTest {

  private static final String CHART = "meshwire-hub";
  private static final String FULLNAME = "mw-meshwire-hub";
  private static final String DATA_DIR = "/var/lib/meshwire-hub";

  @TempDir Path tmp;

  private static HelmCharts.Render defaults() {
    return HelmCharts.render(CHART);
  }

  @Test
  void lintPassesStrictOnTheDefaults() {
    LintResult lint = HelmCharts.lint(CHART);
    assertFalse(lint.isFailed(), () -> "helm lint --strict: " + lint.getMessages());
    assertTrue(lint.getMessages().stream().noneMatch(m -> m.contains("[ERROR]") || m.contains("[WARNING]")),
        () -> "helm lint --strict: " + lint.getMessages());
  }

  @Test
  void defaultsRenderOneReplicaWithItsVolumeConfigAndServices() {
    Manifests m = defaults().manifests();
    assertEquals(Set.of(
            "ConfigMap/" + FULLNAME + "-config",
            "Service/" + FULLNAME,
            "Service/" + FULLNAME + "-headless",
            "Service/" + FULLNAME + "-metrics",
            "ServiceAccount/" + FULLNAME,
            "StatefulSet/" + FULLNAME),
        m.kinds());
    V1StatefulSet sts = m.only(V1StatefulSet.class);
    assertEquals(1, sts.getSpec().getReplicas());
    assertEquals(FULLNAME + "-headless", sts.getSpec().getServiceName());
    assertEquals("data", sts.getSpec().getVolumeClaimTemplates().get(0).getMetadata().getName());
    assertEquals("1Gi", sts.getSpec().getVolumeClaimTemplates().get(0).getSpec().getResources().getRequests()
        .get("storage").toSuffixedString());
    V1PodSpec pod = sts.getSpec().getTemplate().getSpec();
    assertFalse(pod.getAutomountServiceAccountToken());
    V1Container hub = hubContainer(pod);
    assertEquals(List.of("meshwire"), hub.getCommand());
    assertEquals(List.of("hub", "--config=/etc/meshwire-hub/hub.yaml", "--hub-name=$(POD_NAME)"), hub.getArgs());
    assertEquals("metadata.name", hub.getEnv().stream().filter(e -> e.getName().equals("POD_NAME")).findFirst()
        .orElseThrow().getValueFrom().getFieldRef().getFieldPath());
    assertEquals(DATA_DIR, mountPath(hub, "data"));
    assertTrue(pod.getVolumes().stream().noneMatch(v -> v.getName().equals("ca") || v.getName().equals("admin")),
        "without a CA Secret the hub creates its CA on the volume");
    assertTrue(hub.getSecurityContext().getRunAsNonRoot());
    assertTrue(m.ofKind("Secret").isEmpty());
  }

  @Test
  void grpcServiceOn7443AndMetricsOn9464() {
    Manifests m = defaults().manifests();
    V1Service grpc = m.get("Service", FULLNAME).as(V1Service.class);
    assertEquals("ClusterIP", grpc.getSpec().getType());
    assertEquals(7443, grpc.getSpec().getPorts().get(0).getPort());
    assertEquals("grpc", grpc.getSpec().getPorts().get(0).getTargetPort().getStrValue());
    V1Service headless = m.get("Service", FULLNAME + "-headless").as(V1Service.class);
    assertEquals("None", headless.getSpec().getClusterIP());
    V1Service metrics = m.get("Service", FULLNAME + "-metrics").as(V1Service.class);
    assertEquals(9464, metrics.getSpec().getPorts().get(0).getPort());
    V1Container hub = hubContainer(m.only(V1StatefulSet.class).getSpec().getTemplate().getSpec());
    assertEquals(Map.of("grpc", 7443, "metrics", 9464), hub.getPorts().stream()
        .collect(java.util.stream.Collectors.toMap(p -> p.getName(), p -> p.getContainerPort())));
    assertEquals("/ready", hub.getReadinessProbe().getHttpGet().getPath());
    assertEquals("metrics", hub.getReadinessProbe().getHttpGet().getPort().getStrValue());
    assertEquals("/metrics", hub.getLivenessProbe().getHttpGet().getPath());
  }

  @Test
  void defaultConfigIsTheHubsOwnAndListensForThePod() throws IOException {
    HubConfig config = hubConfig(defaults().manifests());
    assertEquals(Path.of(DATA_DIR), config.dataDir());
    assertEquals(HostPort.parse("0.0.0.0:7443"), config.listen());
    assertEquals(HostPort.parse("0.0.0.0:9464"), config.metricsListen().orElseThrow());
    assertEquals(FULLNAME + "-0", config.hubName());
    assertEquals("meshwire", config.mesh());
    // Every setting the chart does not choose for the pod keeps the hub's own default.
    HubConfig hubDefaults = HubConfig.defaults(Path.of(DATA_DIR));
    assertEquals(hubDefaults.certValidity(), config.certValidity());
    assertEquals(hubDefaults.bookmarkInterval(), config.bookmarkInterval());
    assertEquals(hubDefaults.snapshotChunkSize(), config.snapshotChunkSize());
    assertEquals(hubDefaults.maxConcurrentSnapshots(), config.maxConcurrentSnapshots());
    assertEquals(hubDefaults.maxWaitingSnapshots(), config.maxWaitingSnapshots());
    assertEquals(hubDefaults.overloadRetryAfter(), config.overloadRetryAfter());
    assertEquals(hubDefaults.retainedEntries(), config.retainedEntries());
    assertEquals(hubDefaults.checkpointInterval(), config.checkpointInterval());
    assertEquals(hubDefaults.enrollRate(), config.enrollRate());
    assertEquals(hubDefaults.announceRate(), config.announceRate());
    assertEquals(hubDefaults.maxMessageBytes(), config.maxMessageBytes());
    assertEquals(hubDefaults.defaultPeering(), config.defaultPeering());
  }

  @Test
  void everyConfigValueReachesTheHub() throws IOException {
    HubConfig config = hubConfig(defaults().values("hub/tuned.yaml").manifests());
    assertEquals("prod.example.com", config.mesh());
    assertEquals(Duration.ofDays(30), config.certValidity());
    assertEquals(Duration.ofSeconds(10), config.bookmarkInterval());
    assertEquals(io.meshwire.hub.policy.PeeringDefault.DENY, config.defaultPeering());
    assertEquals(250, config.snapshotChunkSize());
    assertEquals(8, config.maxConcurrentSnapshots());
    assertEquals(100, config.maxWaitingSnapshots());
    assertEquals(Duration.ofSeconds(5), config.overloadRetryAfter());
    assertEquals(20000, config.retainedEntries());
    assertEquals(5000, config.checkpointInterval());
    assertEquals(new RateLimits.Limit(5, Duration.ofSeconds(1)), config.enrollRate());
    assertEquals(new RateLimits.Limit(50, Duration.ofSeconds(1)), config.announceRate());
    assertEquals(8388608, config.maxMessageBytes());
  }

  /** The rendered hub.yaml and flags are accepted by the hub's own parser for every value set. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("valueSets")
  void renderedConfigIsAcceptedByTheHub(String resource) throws IOException {
    HubConfig config = hubConfig(defaults().values(resource).manifests());
    assertEquals(Path.of(DATA_DIR), config.dataDir());
  }

  static Stream<String> valueSets() {
    return Stream.of("hub/ca-existing-secret.yaml", "hub/ca-inline.yaml", "hub/load-balancer.yaml",
        "hub/node-port.yaml", "hub/service-monitor.yaml", "hub/metrics-off.yaml", "hub/tuned.yaml");
  }

  @Test
  void ownCaSecretIsMountedAsTheDataDirsCaAndAdminSecretAsItsAdmin() {
    Manifests m = defaults().values("hub/ca-existing-secret.yaml").manifests();
    assertTrue(m.ofKind("Secret").isEmpty(), "an existing Secret is used, not created");
    V1PodSpec pod = m.only(V1StatefulSet.class).getSpec().getTemplate().getSpec();
    V1Container hub = hubContainer(pod);
    assertEquals(DATA_DIR + "/ca", mountPath(hub, "ca"));
    assertEquals(DATA_DIR + "/admin", mountPath(hub, "admin"));
    V1Volume ca = volume(pod, "ca");
    assertEquals("mesh-ca", ca.getSecret().getSecretName());
    assertEquals(List.of("ca.crt", "ca.key"), ca.getSecret().getItems().stream().map(i -> i.getPath()).toList());
    V1Volume admin = volume(pod, "admin");
    assertEquals("mesh-admin", admin.getSecret().getSecretName());
    assertEquals(List.of("admin.crt", "admin.key", "ca.crt"),
        admin.getSecret().getItems().stream().map(i -> i.getPath()).toList());
  }

  @Test
  void inlineCaBecomesASecretMountedAsTheDataDirsCa() {
    Manifests m = defaults().values("hub/ca-inline.yaml").manifests();
    V1Secret secret = m.only(V1Secret.class);
    assertTrue(new String(secret.getData().get("ca.key"), StandardCharsets.UTF_8).startsWith("-----BEGIN PRIVATE KEY-----"));
    assertTrue(new String(secret.getData().get("ca.crt"), StandardCharsets.UTF_8).startsWith("-----BEGIN CERTIFICATE-----"));
    V1PodSpec pod = m.only(V1StatefulSet.class).getSpec().getTemplate().getSpec();
    assertEquals(secret.getMetadata().getName(), volume(pod, "ca").getSecret().getSecretName());
    assertEquals(DATA_DIR + "/ca", mountPath(hubContainer(pod), "ca"));
  }

  @Test
  void relayRunsInTheHubBehindA443ServiceAndAgentsAreToldItsAddress() throws IOException {
    Manifests m = defaults().set("relay.enabled", true).set("relay.advertise[0]", "relay.example.com:443").manifests();

    HubConfig config = hubConfig(m);
    assertEquals(java.util.Optional.of(new HostPort("0.0.0.0", 8443)), config.relayListen());
    assertEquals(List.of(new HostPort("relay.example.com", 443)), config.advertisedRelays());
    V1Service relay = m.get("Service", FULLNAME + "-relay").as(V1Service.class);
    assertEquals("LoadBalancer", relay.getSpec().getType());
    assertEquals(443, relay.getSpec().getPorts().get(0).getPort());
    assertEquals("relay", relay.getSpec().getPorts().get(0).getTargetPort().getStrValue());
    V1Container hub = hubContainer(m.only(V1StatefulSet.class).getSpec().getTemplate().getSpec());
    assertTrue(hub.getPorts().stream().anyMatch(p -> p.getName().equals("relay") && p.getContainerPort() == 8443));
  }

  @Test
  void relayAsItsOwnDeploymentServesTheRelayServiceAndTheHubOnlyListsIt() throws IOException {
    Manifests m = defaults().set("relay.enabled", true).set("relay.mode", "deployment")
        .set("relay.advertise[0]", "relay.example.com:443").set("relay.deployment.existingSecret", "relay-creds")
        .set("relay.deployment.revocationsConfigMap", "hub-revocations").manifests();

    HubConfig config = hubConfig(m);
    assertEquals(java.util.Optional.empty(), config.relayListen(), "the hub runs no relay itself");
    assertEquals(List.of(new HostPort("relay.example.com", 443)), config.advertisedRelays());
    V1Container hub = hubContainer(m.only(V1StatefulSet.class).getSpec().getTemplate().getSpec());
    assertTrue(hub.getPorts().stream().noneMatch(p -> p.getName().equals("relay")));

    io.kubernetes.client.openapi.models.V1Deployment relay = m.get("Deployment", FULLNAME + "-relay")
        .as(io.kubernetes.client.openapi.models.V1Deployment.class);
    assertEquals(1, relay.getSpec().getReplicas(), "one relay per advertised address");
    assertEquals("Recreate", relay.getSpec().getStrategy().getType());
    V1PodSpec pod = relay.getSpec().getTemplate().getSpec();
    V1Container c = pod.getContainers().get(0);
    assertEquals(List.of("relay", "--listen=0.0.0.0:8443", "--data-dir=/etc/meshwire-relay",
        "--metrics-listen=0.0.0.0:9465", "--hub=" + FULLNAME + ".meshwire.svc:7443",
        "--revocations-cache=/var/lib/meshwire-relay/hub-revocations.json",
        "--revocations=/etc/meshwire-relay-revocations/revocations.json"), c.getArgs());
    assertTrue(c.getVolumeMounts().stream().anyMatch(v -> v.getName().equals("state")
        && v.getMountPath().equals("/var/lib/meshwire-relay") && !Boolean.TRUE.equals(v.getReadOnly())),
        "the revocation cache is writable");
    assertEquals(new io.kubernetes.client.openapi.models.V1EmptyDirVolumeSource(), volume(pod, "state").getEmptyDir());
    assertEquals("relay-creds", volume(pod, "credentials").getSecret().getSecretName());
    assertEquals("hub-revocations", volume(pod, "revocations").getConfigMap().getName());
    assertEquals(Boolean.TRUE, c.getSecurityContext().getRunAsNonRoot());

    V1Service service = m.get("Service", FULLNAME + "-relay").as(V1Service.class);
    assertEquals(relay.getSpec().getSelector().getMatchLabels(), service.getSpec().getSelector(),
        "the relay Service selects the relay pod");
    assertFalse(relay.getSpec().getTemplate().getMetadata().getLabels().entrySet().containsAll(
        m.only(V1StatefulSet.class).getSpec().getSelector().getMatchLabels().entrySet()),
        "the hub's Services must not select the relay pod");
  }

  @Test
  void relayDeploymentWithoutCredentialsIsRefusedNamingTheValue() {
    String failure = defaults().set("relay.enabled", true).set("relay.mode", "deployment")
        .set("relay.advertise[0]", "relay.example.com:443").failure();
    assertTrue(failure.contains("relay.deployment.existingSecret: is required"), failure);
  }

  @Test
  void relayWithoutAnAdvertisedAddressIsRefusedNamingTheValue() {
    String failure = defaults().set("relay.enabled", true).failure();
    assertTrue(failure.contains("relay.advertise: is required with relay.enabled"), failure);
    assertFalse(defaults().manifests().kinds().contains("Service/" + FULLNAME + "-relay"));
  }

  @Test
  void loadBalancerService() {
    V1Service grpc = defaults().values("hub/load-balancer.yaml").manifests().get("Service", FULLNAME).as(V1Service.class);
    assertEquals("LoadBalancer", grpc.getSpec().getType());
    assertEquals(List.of("198.51.100.0/24", "2001:db8::/32"), grpc.getSpec().getLoadBalancerSourceRanges());
    assertNull(grpc.getSpec().getPorts().get(0).getNodePort());
  }

  @Test
  void nodePortService() {
    V1Service grpc = defaults().values("hub/node-port.yaml").manifests().get("Service", FULLNAME).as(V1Service.class);
    assertEquals("NodePort", grpc.getSpec().getType());
    assertEquals(30743, grpc.getSpec().getPorts().get(0).getNodePort());
  }

  @Test
  void serviceMonitorSelectsTheMetricsServiceOnly() {
    Manifests m = defaults().values("hub/service-monitor.yaml").manifests();
    Manifests.Manifest monitor = m.get("ServiceMonitor", FULLNAME);
    assertEquals("monitoring.coreos.com/v1", monitor.apiVersion());
    Map<?, ?> spec = (Map<?, ?>) monitor.raw().get("spec");
    Map<?, ?> matchLabels = (Map<?, ?>) ((Map<?, ?>) spec.get("selector")).get("matchLabels");
    List<String> selected = m.ofKind("Service").stream()
        .filter(s -> s.as(V1Service.class).getMetadata().getLabels().entrySet().containsAll(matchLabels.entrySet()))
        .map(Manifests.Manifest::name).toList();
    assertEquals(List.of(FULLNAME + "-metrics"), selected);
  }

  @Test
  void metricsOffRemovesThePortAndTurnsTheListenerOff() throws IOException {
    Manifests m = defaults().values("hub/metrics-off.yaml").manifests();
    assertTrue(m.ofKind("Service").stream().noneMatch(s -> s.name().endsWith("-metrics")), () -> m.kinds().toString());
    V1Container hub = hubContainer(m.only(V1StatefulSet.class).getSpec().getTemplate().getSpec());
    assertEquals(List.of("grpc"), hub.getPorts().stream().map(p -> p.getName()).toList());
    assertEquals("grpc", hub.getLivenessProbe().getTcpSocket().getPort().getStrValue());
    assertEquals("grpc", hub.getReadinessProbe().getTcpSocket().getPort().getStrValue());
    assertTrue(hubConfig(m).metricsListen().isEmpty());
  }

  /**
   * Several replicas render with store etcd: endpoints, prefix and the client Secret's files go
   * into hub.yaml (accepted by the hub's own parser), the Secret is mounted, a PodDisruptionBudget
   * keeps all but one replica up and replicas prefer distinct nodes.
   */
  @Test
  void severalReplicasRenderWithTheEtcdStoreItsClientSecretADisruptionBudgetAndAntiAffinity() throws IOException {
    Manifests m = defaults().values("hub/etcd.yaml").manifests();
    V1StatefulSet set = m.only(V1StatefulSet.class);
    assertEquals(3, set.getSpec().getReplicas());
    HubConfig config = hubConfig(m);
    assertEquals(HubConfig.Store.ETCD, config.store());
    var etcd = config.etcd().orElseThrow();
    assertEquals(3, etcd.endpoints().size());
    assertEquals("/mesh-prod/", etcd.prefix());
    V1PodSpec pod = set.getSpec().getTemplate().getSpec();
    var volume = pod.getVolumes().stream().filter(v -> v.getName().equals("etcd-client")).findFirst().orElseThrow();
    assertEquals("hub-etcd-client", volume.getSecret().getSecretName());
    assertTrue(hubContainer(pod).getVolumeMounts().stream()
        .anyMatch(vm -> vm.getName().equals("etcd-client") && vm.getMountPath().equals("/etc/meshwire-hub/etcd")));
    var pdb = m.only(io.kubernetes.client.openapi.models.V1PodDisruptionBudget.class);
    assertEquals(1, pdb.getSpec().getMaxUnavailable().getIntValue());
    assertEquals(set.getSpec().getSelector().getMatchLabels(), pdb.getSpec().getSelector().getMatchLabels());
    var anti = pod.getAffinity().getPodAntiAffinity().getPreferredDuringSchedulingIgnoredDuringExecution().get(0);
    assertEquals("kubernetes.io/hostname", anti.getPodAffinityTerm().getTopologyKey());
  }

  @Test
  void oneReplicaHasNoDisruptionBudgetAndTheFileStore() throws IOException {
    Manifests m = defaults().manifests();
    assertTrue(m.ofKind("PodDisruptionBudget").isEmpty());
    assertEquals(HubConfig.Store.FILE, hubConfig(m).store());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidValues")
  void invalidValuesAreRefusedNamingTheValue(String name, UnaryOperator<HelmCharts.Render> values, String expected) {
    String message = values.apply(defaults()).failure();
    assertTrue(message.contains(expected), () -> "expected \"" + expected + "\" in:\n" + message);
  }

  static Stream<Arguments> invalidValues() {
    return Stream.of(
        invalid("two replicas without etcd", "replicaCount", 2,
            "replicaCount: 2 hub replicas need etcd.endpoints"),
        invalid("zero replicas", "replicaCount", 0, "replicaCount: Must be greater than or equal to 1"),
        invalid("etcd endpoint without scheme", "etcd.endpoints[0]", "etcd-0:2379", "etcd.endpoints.0: Does not match pattern"),
        invalid("etcd endpoint over plain http", "etcd.endpoints[0]", "http://etcd-0:2379",
            "etcd.endpoints.0: Does not match pattern"),
        invalid("etcd without its client Secret", "etcd.endpoints[0]", "https://etcd-0:2379",
            "etcd.existingSecret: is required with etcd.endpoints"),
        invalid("cert validity in words", "config.certValidity", "90 days", "config.certValidity: Does not match pattern"),
        invalid("rate without period", "config.enrollRate", "10 per second", "config.enrollRate: Does not match pattern"),
        invalid("chunk size 0", "config.snapshotChunkSize", 0, "config.snapshotChunkSize: Must be greater than or equal to 1"),
        invalid("checkpoint beyond retention", "config.checkpointInterval", 200000,
            "config.checkpointInterval: 200000 must not exceed config.retainedEntries (100000)"),
        invalid("mesh not a trust domain", "mesh", "Mesh!", "mesh: Does not match pattern"),
        invalid("service type ExternalName", "service.type", "ExternalName",
            "service.type: service.type must be one of the following"),
        invalid("CA certificate without key", "ca.certificate", "-----BEGIN CERTIFICATE-----",
            "ca.key: is required with ca.certificate"),
        Arguments.of("CA Secret and inline CA", (UnaryOperator<HelmCharts.Render>) r -> r.values("hub/ca-inline.yaml")
            .set("ca.existingSecret", "mesh-ca"), "ca: set either ca.existingSecret or ca.certificate with ca.key"),
        Arguments.of("ServiceMonitor without metrics",
            (UnaryOperator<HelmCharts.Render>) r -> r.set("serviceMonitor.enabled", true).set("metrics.enabled", false),
            "serviceMonitor.enabled: needs metrics.enabled"),
        invalid("misspelt value", "replicas", 2, "Additional property replicas is not allowed"));
  }

  private static Arguments invalid(String name, String key, Object value, String expected) {
    return Arguments.of(name, (UnaryOperator<HelmCharts.Render>) r -> r.set(key, value), expected);
  }

  /** Runs the hub's own argument parser on the rendered args and hub.yaml, as the pod would. */
  private HubConfig hubConfig(Manifests m) throws IOException {
    Path file = tmp.resolve("hub.yaml");
    // The etcd client Secret's files, as the kubelet would mount them.
    Path etcdDir = Files.createDirectories(tmp.resolve("etcd"));
    for (String f : List.of("ca.crt", "tls.crt", "tls.key")) {
      Files.writeString(etcdDir.resolve(f), "pem");
    }
    Files.writeString(file, m.only(V1ConfigMap.class).getData().get("hub.yaml")
        .replace("/etc/meshwire-hub/etcd/", etcdDir + "/"));
    List<String> args = hubContainer(m.only(V1StatefulSet.class).getSpec().getTemplate().getSpec()).getArgs();
    assertEquals("hub", args.get(0));
    String[] flags = args.subList(1, args.size()).stream()
        .map(a -> a.replace("/etc/meshwire-hub/hub.yaml", file.toString()).replace("$(POD_NAME)", FULLNAME + "-0"))
        .toArray(String[]::new);
    return HubMain.parseArgs(flags);
  }

  private static V1Container hubContainer(V1PodSpec pod) {
    assertEquals(1, pod.getContainers().size());
    assertEquals("hub", pod.getContainers().get(0).getName());
    return pod.getContainers().get(0);
  }

  private static V1Volume volume(V1PodSpec pod, String name) {
    return pod.getVolumes().stream().filter(v -> v.getName().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no volume " + name));
  }

  private static String mountPath(V1Container container, String volume) {
    return container.getVolumeMounts().stream().filter(v -> v.getName().equals(volume)).findFirst()
        .orElseThrow(() -> new AssertionError("no mount of " + volume)).getMountPath();
  }
}
