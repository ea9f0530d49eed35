package io.meshwire.charts;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import io.kubernetes.client.common.KubernetesObject;
import io.kubernetes.client.openapi.JSON;
import io.kubernetes.client.util.ModelMapper;
import io.kubernetes.client.util.Yaml;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * {@code Manifests} is what a chart rendered, every document parsed twice: into the official
 * Kubernetes client's model class for its apiVersion and kind, through the client's strict JSON
 * adapters (an unknown or misspelt field or a missing required one is an error, as the API server
 * would say), and through the client's {@link Yaml} loader. Kinds the client has no model for (the
 * Prometheus Operator's ServiceMonitor) must be listed in {@link #GENERIC_KINDS} and are kept as
 * maps with apiVersion, kind and metadata.name checked. Immutable.
 */
record Manifests(List<Manifest> all) {

  /** CRD kinds without a model class in client-java, checked as generic maps. */
  static final Set<String> GENERIC_KINDS = Set.of("monitoring.coreos.com/v1/ServiceMonitor");

  private static final Gson GSON = new GsonBuilder().create();

  /**
   * client-java's Yaml describes V1JSONSchemaProps' x-kubernetes-* properties by names SnakeYAML
   * cannot find as fields, and SnakeYAML warns for each on every CRD; the strict JSON path checks
   * those properties. Held in a field: JUL keeps loggers only weakly, and would forget the level.
   */
  private static final java.util.logging.Logger SNAKEYAML_LOG = quiet("org.yaml.snakeyaml");

  private static java.util.logging.Logger quiet(String name) {
    java.util.logging.Logger logger = java.util.logging.Logger.getLogger(name);
    logger.setLevel(java.util.logging.Level.SEVERE);
    return logger;
  }

  /** One rendered document: its typed model ({@code null} for a generic kind) and its raw map. */
  record Manifest(String apiVersion, String kind, String name, Object model, Map<String, Object> raw) {

    <T> T as(Class<T> type) {
      return type.cast(model);
    }
  }

  static Manifests parse(String rendered) {
    List<Manifest> out = new ArrayList<>();
    var snake = new org.yaml.snakeyaml.Yaml(new SafeConstructor(new LoaderOptions()));
    // Helm separates documents with "---" lines and prefixes each with "# Source: <template>".
    for (String document : rendered.split("(?m)^---\\s*$")) {
      Object loaded = snake.load(document);
      if (loaded == null) {
        continue; // a template that rendered nothing
      }
      if (!(loaded instanceof Map<?, ?> map)) {
        throw new AssertionError("a rendered document is not a map:\n" + document);
      }
      @SuppressWarnings("unchecked")
      Map<String, Object> raw = (Map<String, Object>) map;
      out.add(check(raw, document));
    }
    return new Manifests(List.copyOf(out));
  }

  private static Manifest check(Map<String, Object> raw, String document) {
    String apiVersion = text(raw, "apiVersion", document);
    String kind = text(raw, "kind", document);
    if (!(raw.get("metadata") instanceof Map<?, ?> metadata) || !(metadata.get("name") instanceof String name)
        || name.isBlank()) {
      throw new AssertionError(apiVersion + " " + kind + " has no metadata.name:\n" + document);
    }
    if (GENERIC_KINDS.contains(apiVersion + "/" + kind)) {
      return new Manifest(apiVersion, kind, name, null, raw);
    }
    Class<?> type = ModelMapper.getApiTypeClass(apiVersion, kind);
    if (type == null || type == DynamicKubernetesObject.class) {
      throw new AssertionError("client-java has no model for " + apiVersion + " " + kind
          + " and it is not a known CRD kind:\n" + document);
    }
    Object strict;
    try {
      // The models' type adapters validate the JSON first: unknown fields and missing required ones throw.
      strict = JSON.deserialize(GSON.toJson(raw), type);
    } catch (RuntimeException e) {
      throw new AssertionError(apiVersion + " " + kind + " " + name + " does not parse into "
          + type.getSimpleName() + ": " + e.getMessage() + "\n" + document, e);
    }
    Object viaYaml = Yaml.loadAs(document, type);
    if (!(viaYaml instanceof KubernetesObject k) || !name.equals(k.getMetadata().getName())) {
      throw new AssertionError("Yaml.loadAs lost " + kind + " " + name);
    }
    return new Manifest(apiVersion, kind, name, strict, raw);
  }

  private static String text(Map<String, Object> raw, String key, String document) {
    if (!(raw.get(key) instanceof String value) || value.isBlank()) {
      throw new AssertionError("a rendered document has no " + key + ":\n" + document);
    }
    return value;
  }

  /** Every manifest of {@code kind}. */
  List<Manifest> ofKind(String kind) {
    return all.stream().filter(m -> m.kind().equals(kind)).toList();
  }

  /** The one manifest of {@code kind} named {@code name}. */
  Manifest get(String kind, String name) {
    List<Manifest> found = all.stream().filter(m -> m.kind().equals(kind) && m.name().equals(name)).toList();
    if (found.size() != 1) {
      throw new AssertionError("expected one " + kind + " " + name + ", found " + found.size() + " among " + kinds());
    }
    return found.get(0);
  }

  /** The one model of {@code type}. */
  <T> T only(Class<T> type) {
    List<T> found = all.stream().map(Manifest::model).filter(type::isInstance).map(type::cast).toList();
    if (found.size() != 1) {
      throw new AssertionError("expected one " + type.getSimpleName() + ", found " + found.size() + " among " + kinds());
    }
    return found.get(0);
  }

  /** "Kind/name" of every manifest, sorted, for assertions and messages. */
  Set<String> kinds() {
    return all.stream().map(m -> m.kind() + "/" + m.name()).collect(Collectors.toCollection(java.util.TreeSet::new));
  }
}
