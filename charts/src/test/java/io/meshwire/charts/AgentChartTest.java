package io.meshwire.charts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.marcnuri.helm.LintResult;
import io.kubernetes.client.openapi.models.V1ClusterRole;
import io.kubernetes.client.openapi.models.V1ClusterRoleBinding;
import io.kubernetes.client.openapi.models.V1ConfigMap;
import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1ContainerPort;
import io.kubernetes.client.openapi.models.V1CustomResourceDefinition;
import io.kubernetes.client.openapi.models.V1DaemonSet;
import io.kubernetes.client.openapi.models.V1Deployment;
import io.kubernetes.client.openapi.models.V1PersistentVolumeClaim;
import io.kubernetes.client.openapi.models.V1PodSpec;
import io.kubernetes.client.openapi.models.V1PodTemplateSpec;
import io.kubernetes.client.openapi.models.V1Secret;
import io.kubernetes.client.openapi.models.V1Service;
import io.kubernetes.client.openapi.models.V1ServicePort;
import io.kubernetes.client.openapi.models.V1ValidatingAdmissionPolicy;
import io.kubernetes.client.openapi.models.V1ValidatingAdmissionPolicyBinding;
import io.kubernetes.client.openapi.models.V1Volume;
import io.meshwire.agent.AgentMain;
import io.meshwire.agent.config.AgentConfig;
import io.meshwire.netaddr.Cidr;
import io.meshwire.netaddr.HostPort;
import io.meshwire.reflection.kube.KubeClients;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Helm lint and template of {@code meshwire-agent}, every manifest parsed into client-java's models. */
class AgentChartTest {

  private static final String CHART = "meshwire-agent";
  private static final String FULLNAME = "mw-meshwire-agent";
  /** The reflection module's ClusterRole, the one place its rules are written. */
  private static final String CANONICAL_RBAC = "/rbac/clusterrole.yaml";

  private static HelmCharts.Render required() {
    return HelmCharts.render(CHART).values("agent/required.yaml");
  }

  @Test
  void lintPassesStrictOnTheDefaults() {
    LintResult lint = HelmCharts.lint(CHART);
    assertFalse(lint.isFailed(), () -> "helm lint --strict: " + lint.getMessages());
    assertTrue(lint.getMessages().stream().noneMatch(m -> m.contains("[ERROR]") || m.contains("[WARNING]")),
        () -> "helm lint --strict: " + lint.getMessages());
  }

  @Test
  void defaultsAloneAreRefusedNamingEveryRequiredValue() {
    String message = HelmCharts.render(CHART).failure();
    for (String value : List.of("clusterId: is required", "hub.addresses: at least one hub address",
        "podCidrs: at least one pod CIDR", "gateway.endpoints: at least one endpoint", "hub.ca: one of",
        "joinToken: one of")) {
      assertTrue(message.contains(value), () -> "expected \"" + value + "\" in:\n" + message);
    }
  }

  @Test
  void requiredValuesRenderADeploymentAndItsObjects() {
    Manifests m = required().manifests();
    assertEquals(Set.of(
            "ClusterRole/" + FULLNAME + "-meshwire",
            "ClusterRoleBinding/" + FULLNAME + "-meshwire",
            "ConfigMap/" + FULLNAME + "-hub-ca",
            "Deployment/" + FULLNAME,
            "PersistentVolumeClaim/" + FULLNAME + "-state",
            "Secret/" + FULLNAME + "-join-token",
            "Service/" + FULLNAME + "-wireguard",
            "ServiceAccount/" + FULLNAME,
            "ValidatingAdmissionPolicy/" + FULLNAME + "-meshwire-managed-writes",
            "ValidatingAdmissionPolicyBinding/" + FULLNAME + "-meshwire-managed-writes"),
        m.kinds());
    V1Deployment deployment = m.only(V1Deployment.class);
    assertEquals(1, deployment.getSpec().getReplicas());
    assertEquals("Recreate", deployment.getSpec().getStrategy().getType(), "two agents of one cluster must never overlap");
    V1Container agent = agentContainer(deployment.getSpec().getTemplate());
    assertEquals(List.of("meshwire"), agent.getCommand());
    assertEquals(List.of(
            "agent",
            "--cluster-id=east",
            "--state-dir=/var/lib/meshwire",
            "--hub=hub-0.example.net:7443,hub-1.example.net:7443",
            "--hub-ca=/etc/meshwire/hub-ca/ca.crt",
            "--join-token-file=/etc/meshwire/join-token/token",
            "--interface=mw0",
            "--listen-port=51820",
            "--probe-port=51821",
            "--endpoint=203.0.113.10:51820",
            "--pod-cidrs=10.244.0.0/16",
            "--service-cidrs=10.96.0.0/12",
            "--kubeconfig=in-cluster",
            "--peer-listen=0.0.0.0:7444",
            "--peer-channel=$(POD_IP):7444",
            "--wireguard=auto",
            "--reconcile-interval=10s",
            "--status-interval=5s",
            "--persistent-keepalive=25s",
            "--link-down-after=75s",
            "--path-first-contact=6s",
            "--path-misses=3",
            "--path-upgrade-after=10s",
            "--path-probe-backoff=5s",
            "--path-probe-backoff-max=4m",
            "--relay-idle-close=5m",
            "--rejoin-carry=15m",
            "--metrics-listen=0.0.0.0:9470"),
        agent.getArgs());
    assertEquals(List.of("NET_ADMIN"), agent.getSecurityContext().getCapabilities().getAdd());
    assertEquals(List.of("ALL"), agent.getSecurityContext().getCapabilities().getDrop());
    assertFalse(deployment.getSpec().getTemplate().getSpec().getHostNetwork());
  }

  @Test
  void probesAskTheAgentsMetricsPort() {
    V1Container agent = agentContainer(required().manifests().only(V1Deployment.class).getSpec().getTemplate());
    assertEquals("/ready", agent.getReadinessProbe().getHttpGet().getPath());
    assertEquals("metrics", agent.getReadinessProbe().getHttpGet().getPort().getStrValue());
    assertEquals("/metrics", agent.getLivenessProbe().getHttpGet().getPath());
    assertEquals("/metrics", agent.getStartupProbe().getHttpGet().getPath());
    var metricsPort = agent.getPorts().stream().filter(p -> "metrics".equals(p.getName())).findFirst().orElseThrow();
    assertEquals(9470, metricsPort.getContainerPort());
    assertEquals("TCP", metricsPort.getProtocol());
    var wgPort = agent.getPorts().stream().filter(p -> "wireguard".equals(p.getName())).findFirst().orElseThrow();
    assertEquals(51820, wgPort.getContainerPort());
    assertEquals("UDP", wgPort.getProtocol());
    var probePort = agent.getPorts().stream().filter(p -> "probe".equals(p.getName())).findFirst().orElseThrow();
    assertEquals(51821, probePort.getContainerPort());
  }

  @Test
  void stateDirectoryIsAPersistentVolumeClaimKeptOnUninstall() {
    Manifests m = required().manifests();
    V1PersistentVolumeClaim claim = m.only(V1PersistentVolumeClaim.class);
    assertEquals("keep", claim.getMetadata().getAnnotations().get("helm.sh/resource-policy"));
    assertEquals(List.of("ReadWriteOnce"), claim.getSpec().getAccessModes());
    V1PodSpec pod = m.only(V1Deployment.class).getSpec().getTemplate().getSpec();
    assertEquals(claim.getMetadata().getName(), volume(pod, "state").getPersistentVolumeClaim().getClaimName());
    assertEquals("/var/lib/meshwire", mountPath(agentContainer(pod), "state"));
  }

  @Test
  void joinTokenAndHubCaAreRenderedIntoASecretAndAConfigMap() {
    Manifests m = required().manifests();
    V1Secret secret = m.only(V1Secret.class);
    assertEquals("mwt_east_0123456789abcdef",
        new String(secret.getData().get("token"), StandardCharsets.UTF_8));
    V1ConfigMap ca = m.only(V1ConfigMap.class);
    assertTrue(ca.getData().get("ca.crt").startsWith("-----BEGIN CERTIFICATE-----\n"), ca.getData()::toString);
    V1PodSpec pod = m.only(V1Deployment.class).getSpec().getTemplate().getSpec();
    assertEquals(secret.getMetadata().getName(), volume(pod, "join-token").getSecret().getSecretName());
    assertEquals(ca.getMetadata().getName(), volume(pod, "hub-ca").getConfigMap().getName());
  }

  @Test
  void existingSecretsAndClaimAreUsedAndNothingIsCreatedForThem() {
    Manifests m = required().values("agent/existing-secrets.yaml").manifests();
    assertTrue(m.ofKind("Secret").isEmpty(), () -> m.kinds().toString());
    assertTrue(m.ofKind("ConfigMap").isEmpty(), () -> m.kinds().toString());
    assertTrue(m.ofKind("PersistentVolumeClaim").isEmpty(), () -> m.kinds().toString());
    V1PodSpec pod = m.only(V1Deployment.class).getSpec().getTemplate().getSpec();
    V1Volume token = volume(pod, "join-token");
    assertEquals("east-join-token", token.getSecret().getSecretName());
    assertEquals("join-token", token.getSecret().getItems().get(0).getKey());
    assertEquals("token", token.getSecret().getItems().get(0).getPath());
    V1Volume ca = volume(pod, "hub-ca");
    assertEquals("meshwire-hub-ca", ca.getSecret().getSecretName());
    assertEquals("tls-ca.crt", ca.getSecret().getItems().get(0).getKey());
    assertEquals("ca.crt", ca.getSecret().getItems().get(0).getPath());
    assertEquals("east-agent-state", volume(pod, "state").getPersistentVolumeClaim().getClaimName());
  }

  @Test
  void hubCaFromAnExistingConfigMap() {
    Manifests m = required().set("hub.ca.certificate", "").set("hub.ca.existingConfigMap", "mesh-ca").manifests();
    assertTrue(m.ofKind("ConfigMap").isEmpty(), () -> m.kinds().toString());
    V1PodSpec pod = m.only(V1Deployment.class).getSpec().getTemplate().getSpec();
    assertEquals("mesh-ca", volume(pod, "hub-ca").getConfigMap().getName());
  }

  @Test
  void daemonSetModeRunsOnTheGatewayNodeOnly() {
    Manifests m = required().values("agent/daemonset.yaml").manifests();
    assertTrue(m.ofKind("Deployment").isEmpty(), () -> m.kinds().toString());
    V1DaemonSet daemonSet = m.only(V1DaemonSet.class);
    assertEquals(0, daemonSet.getSpec().getUpdateStrategy().getRollingUpdate().getMaxSurge().getIntValue());
    V1PodSpec pod = daemonSet.getSpec().getTemplate().getSpec();
    assertEquals(Map.of("meshwire.io/gateway", "true"), pod.getNodeSelector());
    assertEquals("meshwire.io/gateway", pod.getTolerations().get(0).getKey());
    assertEquals("agent", agentContainer(daemonSet.getSpec().getTemplate()).getArgs().get(0));
  }

  @Test
  void javaOptionsGoAfterTheImagesAgentOptionsAndTheDefaultsAddNone() {
    V1Container plain = agentContainer(required().manifests().only(V1Deployment.class).getSpec().getTemplate());
    assertTrue(plain.getEnv().stream().noneMatch(e -> e.getName().contains("JAVA")), plain.getEnv()::toString);
    V1Container tuned = agentContainer(required().set("javaOptions", "-Xmx128m").manifests().only(V1Deployment.class)
        .getSpec().getTemplate());
    // The image's launcher puts MESHWIRE_JAVA_OPTS after agent.jvm-options on java's command line.
    assertEquals("-Xmx128m", tuned.getEnv().stream().filter(e -> e.getName().equals("MESHWIRE_JAVA_OPTS"))
        .findFirst().orElseThrow().getValue());
  }

  @Test
  void hostNetworkDefaultsTheEndpointToTheNodeIp() {
    Manifests m = required().values("agent/host-network.yaml").manifests();
    V1PodSpec pod = m.only(V1Deployment.class).getSpec().getTemplate().getSpec();
    assertTrue(pod.getHostNetwork());
    assertEquals("ClusterFirstWithHostNet", pod.getDnsPolicy());
    V1Container agent = agentContainer(m.only(V1Deployment.class).getSpec().getTemplate());
    assertTrue(agent.getArgs().contains("--endpoint=$(NODE_IP):51820"), agent.getArgs()::toString);
    var nodeIp = agent.getEnv().stream().filter(e -> e.getName().equals("NODE_IP")).findFirst().orElseThrow();
    assertEquals("status.hostIP", nodeIp.getValueFrom().getFieldRef().getFieldPath());
  }

  @Test
  void hostNetworkPodsShareTheNodesInterfaceClaimsOthersKeepTheirOwn() {
    V1PodSpec host = required().values("agent/host-network.yaml").manifests().only(V1Deployment.class).getSpec()
        .getTemplate().getSpec();
    String claims = io.meshwire.agent.wireguard.InterfaceClaim.DEFAULT_DIR.toString();
    assertEquals(claims, volume(host, "interface-claims").getHostPath().getPath());
    assertEquals("DirectoryOrCreate", volume(host, "interface-claims").getHostPath().getType());
    assertEquals(claims, mountPath(agentContainer(host), "interface-claims"));
    // In its own network namespace the interface is the pod's: a node-wide claim would refuse a
    // second cluster's agent scheduled on the same node for no reason.
    V1PodSpec own = required().manifests().only(V1Deployment.class).getSpec().getTemplate().getSpec();
    assertTrue(own.getVolumes().stream().noneMatch(v -> v.getName().equals("interface-claims")));
    assertTrue(agentContainer(own).getVolumeMounts().stream().noneMatch(v -> v.getName().equals("interface-claims")));
  }

  @Test
  void anEndpointFileIsPassedToTheAgentAndStandsInForTheEndpoints() {
    HelmCharts.Render render = required().values("agent/host-network.yaml")
        .set("gateway.endpointFile", "/run/meshwire/endpoint");
    AgentConfig config = agentConfig(render);
    assertEquals(Optional.of(Path.of("/run/meshwire/endpoint")), config.endpointFile());
    assertEquals(List.of(new HostPort("192.0.2.7", 51820)), config.endpoints(), "the node's address as fallback");
    assertEquals(Optional.empty(), agentConfig(required()).endpointFile());
  }

  @Test
  void nodePortService() {
    V1Service service = wireGuardService(required().values("agent/node-port.yaml").manifests());
    assertEquals("NodePort", service.getSpec().getType());
    assertEquals("Cluster", service.getSpec().getExternalTrafficPolicy());
    V1ServicePort port = service.getSpec().getPorts().get(0);
    assertEquals("UDP", port.getProtocol());
    assertEquals(51820, port.getPort());
    assertEquals(31820, port.getNodePort());
    assertEquals("wireguard", port.getTargetPort().getStrValue());
    V1ServicePort probe = service.getSpec().getPorts().get(1);
    assertEquals(List.of("probe", "UDP", 31821, 31821, "probe"), List.of(probe.getName(), probe.getProtocol(),
        probe.getPort(), probe.getNodePort(), probe.getTargetPort().getStrValue()),
        "peers probe the node's port the agent announces: the WireGuard node port + 1");
    assertEquals(31821, agentConfig(required().values("agent/node-port.yaml")).probePort());
  }

  @Test
  void theAnnouncedProbePortIsTheOnePeersReachAndTheServiceAndPodOpenIt() {
    record Case(String name, HelmCharts.Render render, int announced) {}
    for (Case c : List.of(
        new Case("defaults: Service port + 1", required(), 51821),
        new Case("Service on 443", required().set("service.port", 443), 444),
        new Case("hostNetwork: listen port + 1", required().values("agent/host-network.yaml"), 51821),
        new Case("explicit", required().set("wireguard.probePort", 40000), 40000))) {
      Manifests m = c.render().manifests();
      V1Container agent = agentContainer(m.only(V1Deployment.class).getSpec().getTemplate());
      assertEquals(c.announced(), agentConfig(c.render()).probePort(), c.name());
      assertEquals(c.announced(), port(agent, "probe").getContainerPort(), c.name());
      if (!m.ofKind("Service").isEmpty()) {
        V1ServicePort probe = wireGuardService(m).getSpec().getPorts().get(1);
        assertEquals(c.announced(), probe.getPort(), c.name());
        assertEquals("probe", probe.getTargetPort().getStrValue(), c.name());
      }
    }
  }

  @Test
  void loadBalancerService() {
    V1Service service = wireGuardService(required().values("agent/load-balancer.yaml").manifests());
    assertEquals("LoadBalancer", service.getSpec().getType());
    assertEquals("Local", service.getSpec().getExternalTrafficPolicy());
    assertEquals("service.k8s.aws/nlb", service.getSpec().getLoadBalancerClass());
    assertEquals(List.of("198.51.100.0/24"), service.getSpec().getLoadBalancerSourceRanges());
    assertEquals("external", service.getMetadata().getAnnotations().get("service.beta.kubernetes.io/aws-load-balancer-type"));
    V1ServicePort port = service.getSpec().getPorts().get(0);
    assertEquals("UDP", port.getProtocol());
    assertNull(port.getNodePort());
    assertEquals(Map.of("app.kubernetes.io/name", "meshwire-agent", "app.kubernetes.io/instance", "mw"),
        service.getSpec().getSelector());
  }

  @Test
  void crdsAreOffByDefault() {
    assertTrue(required().manifests().ofKind("CustomResourceDefinition").isEmpty());
  }

  @Test
  void crdsOnRenderServiceExportAndServiceImport() {
    Manifests m = required().values("agent/crds.yaml").manifests();
    Map<String, V1CustomResourceDefinition> crds = m.ofKind("CustomResourceDefinition").stream()
        .map(x -> x.as(V1CustomResourceDefinition.class))
        .collect(Collectors.toMap(c -> c.getSpec().getNames().getKind(), c -> c));
    assertEquals(Set.of("ServiceExport", "ServiceImport"), crds.keySet());
    for (V1CustomResourceDefinition crd : crds.values()) {
      assertEquals("multicluster.x-k8s.io", crd.getSpec().getGroup());
      assertEquals("Namespaced", crd.getSpec().getScope());
      assertEquals(crd.getSpec().getNames().getPlural() + ".multicluster.x-k8s.io", crd.getMetadata().getName());
      assertEquals(1, crd.getSpec().getVersions().size());
      var version = crd.getSpec().getVersions().get(0);
      assertEquals("v1alpha1", version.getName());
      assertTrue(version.getServed() && version.getStorage());
      assertEquals("object", version.getSchema().getOpenAPIV3Schema().getType());
      assertEquals("keep", crd.getMetadata().getAnnotations().get("helm.sh/resource-policy"));
    }
    var importSpec = crds.get("ServiceImport").getSpec().getVersions().get(0).getSchema().getOpenAPIV3Schema()
        .getProperties().get("spec");
    assertEquals(List.of("ports", "type"), importSpec.getRequired());
    assertEquals(List.of("ClusterSetIP", "Headless"), importSpec.getProperties().get("type").getEnum());
  }

  @Test
  void serviceMonitorSelectsTheMetricsService() {
    Manifests m = required().values("agent/service-monitor.yaml").manifests();
    Manifests.Manifest monitor = m.get("ServiceMonitor", FULLNAME);
    assertEquals("monitoring.coreos.com/v1", monitor.apiVersion());
    assertEquals("kube-prometheus-stack", labels(monitor.raw()).get("release"));
    Map<?, ?> spec = (Map<?, ?>) monitor.raw().get("spec");
    Map<?, ?> matchLabels = (Map<?, ?>) ((Map<?, ?>) spec.get("selector")).get("matchLabels");
    Map<?, ?> endpoint = (Map<?, ?>) ((List<?>) spec.get("endpoints")).get(0);
    assertEquals("metrics", endpoint.get("port"));
    assertEquals("/metrics", endpoint.get("path"));
    V1Service metrics = m.get("Service", FULLNAME + "-metrics").as(V1Service.class);
    assertTrue(metrics.getMetadata().getLabels().entrySet().containsAll(matchLabels.entrySet()),
        () -> "the ServiceMonitor's selector " + matchLabels + " does not select " + metrics.getMetadata().getLabels());
    assertFalse(wireGuardService(m).getMetadata().getLabels().containsKey("meshwire.io/metrics"),
        "the ServiceMonitor must not select the UDP WireGuard Service");
    assertEquals("ClusterIP", metrics.getSpec().getType());
    assertEquals(9470, metrics.getSpec().getPorts().get(0).getPort());
  }

  /**
   * The chart's ClusterRole has exactly the rules of reflection's canonical
   * {@code rbac/clusterrole.yaml} (one place for them): rule order and verb order aside.
   */
  @Test
  void clusterRoleRulesAreReflectionsCanonicalRules() throws IOException {
    Manifests m = required().manifests();
    String canonical;
    try (InputStream in = AgentChartTest.class.getResourceAsStream(CANONICAL_RBAC)) {
      assertNotNull(in, () -> CANONICAL_RBAC + " is not on the classpath (meshwire-reflection)");
      canonical = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    assertEquals(rules(Manifests.parse(canonical).only(V1ClusterRole.class)), rules(m.only(V1ClusterRole.class)),
        "the chart's ClusterRole (templates/rbac.yaml) differs from reflection's " + CANONICAL_RBAC);
    V1ClusterRoleBinding binding = m.only(V1ClusterRoleBinding.class);
    assertEquals(m.only(V1ClusterRole.class).getMetadata().getName(), binding.getRoleRef().getName());
    assertEquals("ClusterRole", binding.getRoleRef().getKind());
    assertEquals(FULLNAME, binding.getSubjects().get(0).getName());
    assertEquals(HelmCharts.NAMESPACE, binding.getSubjects().get(0).getNamespace());
  }

  /** Each rule as "groups resources verbs" with every list sorted, so order does not count. */
  private static Set<String> rules(V1ClusterRole role) {
    assertNull(role.getAggregationRule());
    return role.getRules().stream()
        .map(r -> String.join(" ", sorted(r.getApiGroups()), sorted(r.getResources()), sorted(r.getVerbs()),
            "names=" + sorted(r.getResourceNames()), "urls=" + sorted(r.getNonResourceURLs())))
        .collect(Collectors.toCollection(java.util.TreeSet::new));
  }

  private static String sorted(List<String> list) {
    return list == null ? "[]" : list.stream().sorted().toList().toString();
  }

  @Test
  void admissionPolicyLimitsTheAgentsWritesToObjectsManagedByMeshwire() {
    Manifests m = required().manifests();
    V1ValidatingAdmissionPolicy policy = m.only(V1ValidatingAdmissionPolicy.class);
    assertEquals("request.userInfo.username == 'system:serviceaccount:meshwire:" + FULLNAME + "'",
        policy.getSpec().getMatchConditions().get(0).getExpression());
    assertEquals(Set.of("services", "endpointslices", "serviceimports", "serviceimports/status"),
        policy.getSpec().getMatchConstraints().getResourceRules().stream().flatMap(r -> r.getResources().stream())
            .collect(Collectors.toSet()));
    // The labels and value reflection puts on what it owns (io.meshwire.reflection.kube.Mcs).
    String label = policy.getSpec().getVariables().get(0).getExpression();
    assertTrue(label.contains("'endpointslices' ? 'endpointslice.kubernetes.io/managed-by' : 'app.kubernetes.io/managed-by'"),
        label);
    assertTrue(policy.getSpec().getValidations().stream()
        .allMatch(v -> v.getExpression().contains("labels[variables.label] == 'meshwire.io'")));
    V1ValidatingAdmissionPolicyBinding binding = m.only(V1ValidatingAdmissionPolicyBinding.class);
    assertEquals(policy.getMetadata().getName(), binding.getSpec().getPolicyName());
    assertEquals(List.of("Deny"), binding.getSpec().getValidationActions());

    Manifests unrestricted = required().set("rbac.restrictWrites", false).manifests();
    assertTrue(unrestricted.ofKind("ValidatingAdmissionPolicy").isEmpty(), () -> unrestricted.kinds().toString());
    Manifests noRbac = required().set("rbac.create", false).manifests();
    assertTrue(noRbac.ofKind("ClusterRole").isEmpty() && noRbac.ofKind("ValidatingAdmissionPolicy").isEmpty(),
        () -> noRbac.kinds().toString());
  }

  @Test
  void reflectionIsOnByDefaultAndAnnouncesThePodsIpThroughTheTunnel() {
    V1PodTemplateSpec template = required().manifests().only(V1Deployment.class).getSpec().getTemplate();
    V1Container agent = agentContainer(template);
    assertTrue(agent.getArgs().containsAll(List.of("--kubeconfig=in-cluster", "--peer-listen=0.0.0.0:7444",
        "--peer-channel=$(POD_IP):7444")), agent.getArgs()::toString);
    assertEquals("status.podIP", agent.getEnv().stream().filter(e -> e.getName().equals("POD_IP")).findFirst()
        .orElseThrow().getValueFrom().getFieldRef().getFieldPath());
    var peer = port(agent, "peer");
    assertEquals(7444, peer.getContainerPort());
    assertEquals("TCP", peer.getProtocol());
    assertEquals(Boolean.TRUE, template.getSpec().getAutomountServiceAccountToken(),
        "reflection's in-cluster client needs the ServiceAccount token");

    // What the agent gets once the kubelet has put the pod's IP (10.244.1.9) in $(POD_IP).
    AgentConfig config = agentConfig(required());
    assertEquals(Optional.of(Path.of(KubeClients.IN_CLUSTER)), config.kubeconfig());
    assertEquals(Optional.of(new HostPort("0.0.0.0", 7444)), config.peerListen());
    assertEquals(Optional.of(new HostPort("10.244.1.9", 7444)), config.peerChannel());
    InetAddress announced = Cidr.parseAddress(config.peerChannel().orElseThrow().host());
    assertTrue(config.podCidrs().stream().anyMatch(c -> c.contains(announced)),
        "peers dial the peer channel through the tunnel: it must be in the pod CIDRs " + config.podCidrs());
  }

  @Test
  void linkHealthSettingsReachTheAgentAndATooShortThresholdIsRefusedByIt() {
    AgentConfig defaults = agentConfig(required());
    assertEquals(Duration.ofSeconds(25), defaults.persistentKeepalive());
    assertEquals(Duration.ofSeconds(75), defaults.linkDownAfter());
    AgentConfig fast = agentConfig(required().set("persistentKeepalive", "2s").set("linkDownAfter", "5s"));
    assertEquals(Duration.ofSeconds(5), fast.linkDownAfter());
    // The schema cannot compare the two; the agent refuses at start, naming both.
    IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
        () -> agentConfig(required().set("linkDownAfter", "50s")));
    assertTrue(refused.getMessage().contains("link-down-after: 50s must be more than twice persistent-keepalive (25s)"),
        refused.getMessage());
  }

  @Test
  void reflectionWithoutChartRbacStillRunsForAnOperatorsOwnBinding() {
    Manifests m = required().set("rbac.create", false).manifests();
    assertTrue(m.ofKind("ClusterRole").isEmpty() && m.ofKind("ClusterRoleBinding").isEmpty(), m.kinds()::toString);
    V1PodTemplateSpec template = m.only(V1Deployment.class).getSpec().getTemplate();
    assertTrue(agentContainer(template).getArgs().contains("--kubeconfig=in-cluster"),
        agentContainer(template).getArgs()::toString);
    assertEquals(Boolean.TRUE, template.getSpec().getAutomountServiceAccountToken());
    assertTrue(agentConfig(required().set("rbac.create", false)).kubeconfig().isPresent());
  }

  /** NOTES.txt (helm install --dry-run=client) names what reflection still needs from the operator. */
  @Test
  void notesSayWhatReflectionNeedsFromTheOperator() {
    String defaults = required().installOutput();
    assertTrue(defaults.contains("Service reflection (Multi-Cluster Services) is on"), defaults);
    assertTrue(defaults.contains("It needs the ServiceExport and ServiceImport CRDs"), defaults);
    assertFalse(defaults.contains("rbac.create is off"), defaults);
    String ownRbac = required().set("rbac.create", false).set("crds.install", true).installOutput();
    assertTrue(ownRbac.contains("rbac.create is off: bind a ClusterRole with reflection's rules to ServiceAccount\n"
        + "meshwire/" + FULLNAME), ownRbac);
    assertFalse(ownRbac.contains("CRDs"), ownRbac);
    String hostNetwork = required().values("agent/host-network.yaml").installOutput();
    assertTrue(hostNetwork.contains("WARNING: with hostNetwork the pod's IP is the node's"), hostNetwork);
    String off = required().set("reflection.enabled", false).set("rbac.create", false).installOutput();
    assertFalse(off.contains("reflection"), off);
  }

  @Test
  void reflectionOffRendersNoneOfItsFlagsPortOrToken() {
    HelmCharts.Render off = required().set("reflection.enabled", false);
    V1PodTemplateSpec template = off.manifests().only(V1Deployment.class).getSpec().getTemplate();
    V1Container agent = agentContainer(template);
    assertTrue(agent.getArgs().stream().noneMatch(a -> a.startsWith("--kubeconfig") || a.startsWith("--peer-listen")
        || a.startsWith("--peer-channel")), agent.getArgs()::toString);
    assertTrue(agent.getPorts().stream().noneMatch(p -> "peer".equals(p.getName())), agent.getPorts()::toString);
    assertEquals(Boolean.FALSE, template.getSpec().getAutomountServiceAccountToken(),
        "without reflection the agent needs no API token");
    AgentConfig config = agentConfig(off);
    assertEquals(Optional.empty(), config.kubeconfig());
    assertEquals(Optional.empty(), config.peerListen());
    assertEquals(Optional.empty(), config.peerChannel());
  }

  @Test
  void anExplicitPeerChannelWinsOverThePodsIp() {
    HelmCharts.Render explicit = required().set("peerChannel", "10.244.0.10:7000");
    List<String> args = agentContainer(explicit.manifests().only(V1Deployment.class).getSpec().getTemplate()).getArgs();
    assertTrue(args.containsAll(List.of("--peer-channel=10.244.0.10:7000", "--peer-listen=0.0.0.0:7444")),
        args::toString);
    assertTrue(args.stream().noneMatch(a -> a.contains("$(POD_IP)")), args::toString);
    assertEquals(1, args.stream().filter(a -> a.startsWith("--peer-channel")).count(), args::toString);
    AgentConfig config = agentConfig(explicit);
    assertEquals(Optional.of(new HostPort("10.244.0.10", 7000)), config.peerChannel());
    assertEquals(Optional.of(new HostPort("0.0.0.0", 7444)), config.peerListen());

    // Without reflection an explicit peerChannel is still announced, as before reflection existed.
    AgentConfig announcedOnly = agentConfig(required().set("peerChannel", "10.244.0.10:7000")
        .set("reflection.enabled", false));
    assertEquals(Optional.of(new HostPort("10.244.0.10", 7000)), announcedOnly.peerChannel());
    assertEquals(Optional.empty(), announcedOnly.kubeconfig());
  }

  @Test
  void peerPortMovesTheListenerTheAnnouncedChannelAndTheContainerPort() {
    HelmCharts.Render moved = required().set("reflection.peerPort", 7555);
    V1Container agent = agentContainer(moved.manifests().only(V1Deployment.class).getSpec().getTemplate());
    assertTrue(agent.getArgs().containsAll(List.of("--peer-listen=0.0.0.0:7555", "--peer-channel=$(POD_IP):7555")),
        agent.getArgs()::toString);
    assertEquals(7555, port(agent, "peer").getContainerPort());
    AgentConfig config = agentConfig(moved);
    assertEquals(7555, config.peerListen().orElseThrow().port());
    assertEquals(7555, config.peerChannel().orElseThrow().port());
  }

  @Test
  void everyOptionalSettingRendersAndReachesTheAgent() {
    Manifests m = required().values("agent/everything.yaml").manifests();
    V1Deployment deployment = m.only(V1Deployment.class);
    V1Container agent = agentContainer(deployment.getSpec().getTemplate());
    assertTrue(agent.getArgs().containsAll(List.of("--interface=wg-mesh", "--listen-port=51821",
        "--interface-address=100.64.0.1/32", "--peer-channel=100.64.0.1:7444", "--wireguard=userspace",
        "--remap-pools=100.96.0.0/12", "--reserved-cidrs=192.168.0.0/16",
        "--reconcile-interval=30s", "--status-interval=10s", "--persistent-keepalive=5s",
        "--link-down-after=20s", "--accept-hub-state",
        "--metrics-listen=$(POD_IP):9470")), agent.getArgs()::toString);
    assertEquals("status.podIP", agent.getEnv().stream().filter(e -> e.getName().equals("POD_IP")).findFirst()
        .orElseThrow().getValueFrom().getFieldRef().getFieldPath());
    assertEquals("system-cluster-critical", deployment.getSpec().getTemplate().getSpec().getPriorityClassName());
    assertEquals(51821, wireGuardService(m).getSpec().getPorts().get(0).getPort());
    assertEquals(2, m.ofKind("CustomResourceDefinition").size());
    assertEquals(1, m.ofKind("ServiceMonitor").size());
  }

  @Test
  void remapPoolsKeepTheAgentsDefaultUnlessGivenAndAnEmptyListTurnsRemappingOff() {
    List<String> defaults = agentContainer(required().manifests().only(V1Deployment.class).getSpec().getTemplate())
        .getArgs();
    assertTrue(defaults.stream().noneMatch(a -> a.startsWith("--remap-pools")), defaults::toString);
    assertEquals(List.of(Cidr.parse("100.64.0.0/10"), Cidr.parse("fd6d:7769:7265::/48")),
        agentConfig(required()).remapPools());
    HelmCharts.Render off = required().values("agent/remap-off.yaml");
    assertTrue(agentContainer(off.manifests().only(V1Deployment.class).getSpec().getTemplate()).getArgs()
        .contains("--remap-pools="));
    assertEquals(List.of(), agentConfig(off).remapPools());
    assertEquals(List.of(Cidr.parse("100.96.0.0/12")), agentConfig(required().values("agent/everything.yaml")).remapPools());
  }

  @Test
  void tunDeviceIsMountedForUserspaceWireGuardOnly() {
    V1PodSpec auto = required().manifests().only(V1Deployment.class).getSpec().getTemplate().getSpec();
    assertEquals("/dev/net/tun", volume(auto, "tun").getHostPath().getPath());
    assertEquals("CharDevice", volume(auto, "tun").getHostPath().getType());
    V1PodSpec kernel = required().set("wireguard.implementation", "kernel").manifests()
        .only(V1Deployment.class).getSpec().getTemplate().getSpec();
    assertTrue(kernel.getVolumes().stream().noneMatch(v -> v.getName().equals("tun")));
  }

  /** The rendered flags are the agent's own: its real parser accepts them, with every value intact. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("valueSets")
  void renderedFlagsAreAcceptedByTheAgentsConfigParser(String name, List<String> valuesFiles) {
    HelmCharts.Render render = HelmCharts.render(CHART);
    valuesFiles.forEach(render::values);
    AgentConfig config = agentConfig(render);
    assertEquals("east", config.clusterId());
    assertEquals(List.of(HostPort.parse("hub-0.example.net:7443"), HostPort.parse("hub-1.example.net:7443")),
        config.hubs());
    assertEquals(List.of(Cidr.parse("10.244.0.0/16")), config.podCidrs());
    assertEquals(9470, config.metricsListen().orElseThrow().port());
    assertEquals("/var/lib/meshwire", config.stateDir().toString());
    assertEquals(Optional.of(Path.of(KubeClients.IN_CLUSTER)), config.kubeconfig());
    assertEquals(7444, config.peerListen().orElseThrow().port());
  }

  static Stream<Arguments> valueSets() {
    return Stream.of(
        Arguments.of("required", List.of("agent/required.yaml")),
        Arguments.of("daemonset", List.of("agent/required.yaml", "agent/daemonset.yaml")),
        Arguments.of("hostNetwork", List.of("agent/required.yaml", "agent/host-network.yaml")),
        Arguments.of("nodePort", List.of("agent/required.yaml", "agent/node-port.yaml")),
        Arguments.of("loadBalancer", List.of("agent/required.yaml", "agent/load-balancer.yaml")),
        Arguments.of("crds", List.of("agent/required.yaml", "agent/crds.yaml")),
        Arguments.of("serviceMonitor", List.of("agent/required.yaml", "agent/service-monitor.yaml")),
        Arguments.of("existingSecrets", List.of("agent/required.yaml", "agent/existing-secrets.yaml")),
        Arguments.of("remapOff", List.of("agent/required.yaml", "agent/remap-off.yaml")),
        Arguments.of("everything", List.of("agent/required.yaml", "agent/everything.yaml")));
  }

  /** Each invalid value is refused by Helm with a message that names it. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidValues")
  void invalidValuesAreRefusedNamingTheValue(String name, UnaryOperator<HelmCharts.Render> values, String expected) {
    String message = values.apply(required()).failure();
    assertTrue(message.contains(expected), () -> "expected \"" + expected + "\" in:\n" + message);
  }

  static Stream<Arguments> invalidValues() {
    return Stream.of(
        invalid("prefix length 33", "podCidrs[0]", "10.0.0.0/33", "podCidrs.0: Does not match pattern"),
        invalid("CIDR without prefix", "podCidrs[0]", "10.244.0.0", "podCidrs.0: Does not match pattern"),
        invalid("octet 300", "serviceCidrs[0]", "300.96.0.0/12", "serviceCidrs.0: Does not match pattern"),
        invalid("remap pool not a CIDR", "remapPools[0]", "not-a-cidr", "remapPools.0: Does not match pattern"),
        invalid("reserved range not a CIDR", "reservedCidrs[0]", "10.0.0.0/8/8", "reservedCidrs.0: Does not match pattern"),
        Arguments.of("no hub address", (UnaryOperator<HelmCharts.Render>) r -> r.values("agent/no-hub.yaml"),
            "hub.addresses: at least one hub address (host:port) is required"),
        invalid("hub address without port", "hub.addresses[0]", "hub.example.net",
            "hub.addresses.0: Does not match pattern"),
        invalid("hub port 70000", "hub.addresses[0]", "hub.example.net:70000", "hub.addresses.0: Does not match pattern"),
        Arguments.of("no gateway endpoint", (UnaryOperator<HelmCharts.Render>) r -> r.values("agent/no-endpoints.yaml"),
            "gateway.endpoints: at least one endpoint"),
        invalid("unknown wireguard mode", "wireguard.implementation", "boringtun",
            "wireguard.implementation: wireguard.implementation must be one of the following: "
                + "\"auto\", \"kernel\", \"userspace\""),
        invalid("listen port 0", "wireguard.listenPort", 0, "wireguard.listenPort: Must be greater than or equal to 1"),
        invalid("probe port on the WireGuard port", "wireguard.probePort", 51820,
            "wireguard.probePort: 51820 is wireguard.listenPort too"),
        invalid("probe port 70000", "wireguard.probePort", 70000,
            "wireguard.probePort: Must be less than or equal to 65535"),
        invalid("interface name too long", "wireguard.interface", "a-name-longer-than-15",
            "wireguard.interface: Does not match pattern"),
        invalid("cluster ID not a DNS label", "clusterId", "East_1", "clusterId: Does not match pattern"),
        invalid("workload kind StatefulSet", "workload.kind", "StatefulSet",
            "workload.kind: workload.kind must be one of the following"),
        invalid("DaemonSet without nodeSelector", "workload.kind", "DaemonSet",
            "nodeSelector: workload.kind DaemonSet needs a nodeSelector"),
        invalid("service type ClusterIP", "service.type", "ClusterIP", "service.type: service.type must be one of the following"),
        invalid("duration in words", "reconcileInterval", "10 seconds", "reconcileInterval: Does not match pattern"),
        invalid("keepalive in milliseconds", "persistentKeepalive", "1500ms", "persistentKeepalive: Does not match pattern"),
        invalid("keepalive of zero", "persistentKeepalive", "0s", "persistentKeepalive: Does not match pattern"),
        invalid("link threshold in words", "linkDownAfter", "soon", "linkDownAfter: Does not match pattern"),
        invalid("two join token sources", "joinToken.existingSecret", "other",
            "joinToken: set only one of joinToken.value, joinToken.existingSecret"),
        invalid("two hub CA sources", "hub.ca.existingSecret", "other", "hub.ca: set only one of"),
        invalid("misspelt value", "hostNetwrok", true, "Additional property hostNetwrok is not allowed"),
        invalid("peer port 0", "reflection.peerPort", 0, "reflection.peerPort: Must be greater than or equal to 1"),
        invalid("peer port 70000", "reflection.peerPort", 70000,
            "reflection.peerPort: Must be less than or equal to 65535"),
        invalid("peer port not a number", "reflection.peerPort", "seven",
            "reflection.peerPort: Invalid type. Expected: integer, given: string"),
        Arguments.of("peer port not an integer",
            (UnaryOperator<HelmCharts.Render>) r -> r.values("agent/peer-port-fraction.yaml"),
            "reflection.peerPort: Invalid type. Expected: integer, given: number"),
        invalid("reflection not a boolean", "reflection.enabled", "yes",
            "reflection.enabled: Invalid type. Expected: boolean, given: string"),
        invalid("misspelt reflection value", "reflection.peerport", 7444,
            "Additional property peerport is not allowed"),
        invalid("peer port is the metrics port", "reflection.peerPort", 9470,
            "reflection.peerPort: 9470 is metrics.port too"),
        invalid("reflection flag in extraArgs", "extraArgs[0]", "--kubeconfig=/etc/kube/config",
            "extraArgs: \"--kubeconfig=/etc/kube/config\" is set by reflection.enabled"));
  }

  private static Arguments invalid(String name, String key, Object value, String expected) {
    return Arguments.of(name, (UnaryOperator<HelmCharts.Render>) r -> r.set(key, value), expected);
  }

  /** The rendered flags through the agent's own parser ({@code AgentMain.flags}, {@code AgentConfig.parse}). */
  private static AgentConfig agentConfig(HelmCharts.Render render) {
    Manifests m = render.manifests();
    V1PodTemplateSpec template = m.ofKind("DaemonSet").isEmpty()
        ? m.only(V1Deployment.class).getSpec().getTemplate()
        : m.only(V1DaemonSet.class).getSpec().getTemplate();
    List<String> args = agentContainer(template).getArgs();
    assertEquals("agent", args.get(0));
    // What the kubelet does before exec: expand $(NODE_IP) and $(POD_IP) from the downward API.
    String[] flags = args.subList(1, args.size()).stream()
        .map(a -> a.replace("$(NODE_IP)", "192.0.2.7").replace("$(POD_IP)", "10.244.1.9"))
        .toArray(String[]::new);
    Map<String, String> settings = new java.util.LinkedHashMap<>(AgentMain.flags(flags));
    // join-token-file is read at parse time; the file lives in the pod, not here.
    assertEquals("/etc/meshwire/join-token/token", settings.remove("join-token-file"));
    return AgentConfig.parse(settings);
  }

  private static V1Container agentContainer(V1PodTemplateSpec template) {
    return agentContainer(template.getSpec());
  }

  private static V1Container agentContainer(V1PodSpec pod) {
    List<V1Container> containers = pod.getContainers();
    assertEquals(1, containers.size());
    assertEquals("agent", containers.get(0).getName());
    return containers.get(0);
  }

  private static V1ContainerPort port(V1Container container, String name) {
    return container.getPorts().stream().filter(p -> name.equals(p.getName())).findFirst()
        .orElseThrow(() -> new AssertionError("no container port " + name + " in " + container.getPorts()));
  }

  private static V1Volume volume(V1PodSpec pod, String name) {
    return pod.getVolumes().stream().filter(v -> v.getName().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no volume " + name));
  }

  private static String mountPath(V1Container container, String volume) {
    return container.getVolumeMounts().stream().filter(v -> v.getName().equals(volume)).findFirst()
        .orElseThrow(() -> new AssertionError("no mount of " + volume)).getMountPath();
  }

  private static V1Service wireGuardService(Manifests m) {
    return m.get("Service", FULLNAME + "-wireguard").as(V1Service.class);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, String> labels(Map<String, Object> raw) {
    return (Map<String, String>) ((Map<String, Object>) raw.get("metadata")).get("labels");
  }
}
