package io.meshwire.charts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kubernetes.client.openapi.models.V1Deployment;
import org.junit.jupiter.api.Test;

/** The manifest checker itself: it must refuse what an API server would refuse. */
class ManifestsTest {

  private static final String DEPLOYMENT = """
      ---
      # Source: x/templates/deployment.yaml
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        %s
        selector:
          matchLabels: {app: web}
        template:
          metadata:
            labels: {app: web}
          spec:
            containers:
              - %s
                image: nginx
      """;

  @Test
  void parsesAValidDeploymentIntoItsModel() {
    Manifests m = Manifests.parse(DEPLOYMENT.formatted("replicas: 2", "name: web"));
    assertEquals(2, m.only(V1Deployment.class).getSpec().getReplicas());
    assertEquals(java.util.Set.of("Deployment/web"), m.kinds());
  }

  @Test
  void refusesAMisspeltField() {
    AssertionError e = assertThrows(AssertionError.class,
        () -> Manifests.parse(DEPLOYMENT.formatted("replica: 2", "name: web")));
    assertTrue(e.getMessage().contains("replica"), e.getMessage());
  }

  @Test
  void refusesAMissingRequiredField() {
    AssertionError e = assertThrows(AssertionError.class,
        () -> Manifests.parse(DEPLOYMENT.formatted("replicas: 2", "imagePullPolicy: Always")));
    assertTrue(e.getMessage().contains("name"), e.getMessage());
  }

  @Test
  void refusesAWrongType() {
    assertThrows(AssertionError.class, () -> Manifests.parse(DEPLOYMENT.formatted("replicas: [2]", "name: web")));
  }

  @Test
  void refusesAKindWithoutAModelThatIsNoKnownCrd() {
    AssertionError e = assertThrows(AssertionError.class,
        () -> Manifests.parse("apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n"));
    assertTrue(e.getMessage().contains("no model for example.com/v1 Widget"), e.getMessage());
  }

  @Test
  void refusesADocumentWithoutAName() {
    assertThrows(AssertionError.class, () -> Manifests.parse("apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n"));
  }

  @Test
  void keepsAServiceMonitorAsACheckedMap() {
    Manifests m = Manifests.parse("""
        apiVersion: monitoring.coreos.com/v1
        kind: ServiceMonitor
        metadata:
          name: agent
        spec:
          endpoints: [{port: metrics}]
        """);
    assertEquals("agent", m.get("ServiceMonitor", "agent").name());
  }
}
