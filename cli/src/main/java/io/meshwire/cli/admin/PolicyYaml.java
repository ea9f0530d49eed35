package io.meshwire.cli.admin;

import io.meshwire.proto.policy.v1.LabelRequirement;
import io.meshwire.proto.policy.v1.PeeringMode;
import io.meshwire.proto.policy.v1.PeeringPolicy;
import io.meshwire.proto.policy.v1.Selector;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * {@code PolicyYaml} reads and writes {@code PeeringPolicy} documents, in the shape Kubernetes users
 * know:
 *
 * <pre>
 * apiVersion: meshwire.io/v1alpha1
 * kind: PeeringPolicy
 * metadata: {name: prod}
 * spec:
 *   mode: direct            # direct | relay-only | deny
 *   clusters: {matchLabels: {env: prod}}
 *   peers:
 *     names: [shared]
 *     matchExpressions: [{key: tier, operator: In, values: [a, b]}]
 * </pre>
 *
 * Several documents separated by {@code ---} are several policies. This class checks the shape
 * (unknown or missing keys, wrong types) and names the path of the first problem; the hub checks
 * the content (label syntax, operators, names). Stateless.
 */
final class PolicyYaml {

  static final String API_VERSION = "meshwire.io/v1alpha1";
  static final String KIND = "PeeringPolicy";

  private PolicyYaml() {}

  /** The policies in {@code text}, in order. */
  static List<PeeringPolicy> parse(String source, String text) {
    LoaderOptions options = new LoaderOptions();
    options.setAllowDuplicateKeys(false);
    options.setMaxAliasesForCollections(10);
    Yaml yaml = new Yaml(new SafeConstructor(options));
    List<PeeringPolicy> out = new ArrayList<>();
    int index = 0;
    try {
      for (Object doc : yaml.loadAll(text)) {
        index++;
        if (doc == null) {
          continue;
        }
        out.add(policy(source + " document " + index + ": ", doc));
      }
    } catch (YAMLException e) {
      throw new IllegalArgumentException(source + ": not valid YAML: " + e.getMessage().lines().findFirst().orElse(""));
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException(source + ": no PeeringPolicy document");
    }
    return out;
  }

  private static PeeringPolicy policy(String where, Object doc) {
    Map<String, Object> root = map(where, "", doc, Set.of("apiVersion", "kind", "metadata", "spec"));
    String apiVersion = text(where, "apiVersion", root.get("apiVersion"));
    if (!API_VERSION.equals(apiVersion)) {
      throw new IllegalArgumentException(where + "apiVersion: \"" + apiVersion + "\" is not " + API_VERSION);
    }
    String kind = text(where, "kind", root.get("kind"));
    if (!KIND.equals(kind)) {
      throw new IllegalArgumentException(where + "kind: \"" + kind + "\" is not " + KIND);
    }
    Map<String, Object> metadata = map(where, "metadata", required(where, "metadata", root), Set.of("name"));
    Map<String, Object> spec = map(where, "spec", required(where, "spec", root), Set.of("mode", "clusters", "peers"));
    String mode = text(where, "spec.mode", required(where, "spec.mode", spec));
    return PeeringPolicy.newBuilder()
        .setName(text(where, "metadata.name", required(where, "metadata.name", metadata)))
        .setMode(switch (mode) {
          case "direct" -> PeeringMode.PEERING_MODE_DIRECT;
          case "relay-only" -> PeeringMode.PEERING_MODE_RELAY_ONLY;
          case "deny" -> PeeringMode.PEERING_MODE_DENY;
          default -> throw new IllegalArgumentException(where + "spec.mode: \"" + mode
              + "\" is not one of direct, relay-only, deny");
        })
        .setClusters(selector(where, "spec.clusters", required(where, "spec.clusters", spec)))
        .setPeers(selector(where, "spec.peers", required(where, "spec.peers", spec)))
        .build();
  }

  private static Selector selector(String where, String path, Object node) {
    Map<String, Object> m = map(where, path, node, Set.of("names", "matchLabels", "matchExpressions"));
    Selector.Builder b = Selector.newBuilder();
    if (m.containsKey("names")) {
      b.addAllNames(texts(where, path + ".names", m.get("names")));
    }
    if (m.containsKey("matchLabels")) {
      map(where, path + ".matchLabels", m.get("matchLabels"), null)
          .forEach((k, v) -> b.putMatchLabels(k, text(where, path + ".matchLabels." + k, v)));
    }
    if (m.containsKey("matchExpressions")) {
      List<?> list = list(where, path + ".matchExpressions", m.get("matchExpressions"));
      for (int i = 0; i < list.size(); i++) {
        String p = path + ".matchExpressions[" + i + "]";
        Map<String, Object> e = map(where, p, list.get(i), Set.of("key", "operator", "values"));
        LabelRequirement.Builder r = LabelRequirement.newBuilder()
            .setKey(text(where, p + ".key", required(where, p + ".key", e)))
            .setOperator(text(where, p + ".operator", required(where, p + ".operator", e)));
        if (e.containsKey("values")) {
          r.addAllValues(texts(where, p + ".values", e.get("values")));
        }
        b.addMatchExpressions(r);
      }
    }
    return b.build();
  }

  /** {@code policy} as a YAML document that {@link #parse} reads back to the same policy. */
  static String write(PeeringPolicy policy) {
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("apiVersion", API_VERSION);
    doc.put("kind", KIND);
    doc.put("metadata", Map.of("name", policy.getName()));
    Map<String, Object> spec = new LinkedHashMap<>();
    spec.put("mode", mode(policy.getMode()));
    spec.put("clusters", selector(policy.getClusters()));
    spec.put("peers", selector(policy.getPeers()));
    doc.put("spec", spec);
    org.yaml.snakeyaml.DumperOptions options = new org.yaml.snakeyaml.DumperOptions();
    options.setDefaultFlowStyle(org.yaml.snakeyaml.DumperOptions.FlowStyle.BLOCK);
    return new Yaml(options).dump(doc);
  }

  /** The spelling of a mode in policy files. */
  static String mode(PeeringMode mode) {
    return switch (mode) {
      case PEERING_MODE_RELAY_ONLY -> "relay-only";
      case PEERING_MODE_DENY -> "deny";
      default -> "direct";
    };
  }

  /** A selector in Kubernetes' label-selector notation, plus names: "env=prod,tier in (a,b),name in (x)". */
  static String describe(Selector s) {
    List<String> terms = new ArrayList<>();
    if (s.getNamesCount() > 0) {
      terms.add("name in (" + String.join(",", s.getNamesList()) + ")");
    }
    new java.util.TreeMap<>(s.getMatchLabelsMap()).forEach((k, v) -> terms.add(k + "=" + v));
    for (LabelRequirement r : s.getMatchExpressionsList()) {
      terms.add(switch (r.getOperator()) {
        case "Exists" -> r.getKey();
        case "DoesNotExist" -> "!" + r.getKey();
        case "NotIn" -> r.getKey() + " notin (" + String.join(",", r.getValuesList()) + ")";
        default -> r.getKey() + " in (" + String.join(",", r.getValuesList()) + ")";
      });
    }
    return terms.isEmpty() ? "(all)" : String.join(",", terms);
  }

  private static Map<String, Object> selector(Selector s) {
    Map<String, Object> m = new LinkedHashMap<>();
    if (s.getNamesCount() > 0) {
      m.put("names", List.copyOf(s.getNamesList()));
    }
    if (s.getMatchLabelsCount() > 0) {
      m.put("matchLabels", new java.util.TreeMap<>(s.getMatchLabelsMap()));
    }
    if (s.getMatchExpressionsCount() > 0) {
      m.put("matchExpressions", s.getMatchExpressionsList().stream().map(r -> {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("key", r.getKey());
        e.put("operator", r.getOperator());
        if (r.getValuesCount() > 0) {
          e.put("values", List.copyOf(r.getValuesList()));
        }
        return e;
      }).collect(Collectors.toList()));
    }
    return m;
  }

  private static Object required(String where, String path, Map<String, Object> parent) {
    String key = path.substring(path.lastIndexOf('.') + 1);
    Object v = parent.get(key);
    if (v == null) {
      throw new IllegalArgumentException(where + path + ": is required");
    }
    return v;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(String where, String path, Object node, Set<String> allowed) {
    if (node == null) {
      return Map.of();
    }
    if (!(node instanceof Map<?, ?> m)) {
      throw new IllegalArgumentException(where + (path.isEmpty() ? "document" : path) + ": must be a mapping");
    }
    for (Object k : m.keySet()) {
      if (!(k instanceof String key)) {
        throw new IllegalArgumentException(where + path + ": key " + k + " is not a string");
      }
      if (allowed != null && !allowed.contains(key)) {
        throw new IllegalArgumentException(where + (path.isEmpty() ? "" : path + ".") + key
            + ": unknown field (known: " + String.join(", ", new java.util.TreeSet<>(allowed)) + ")");
      }
    }
    return (Map<String, Object>) m;
  }

  private static List<?> list(String where, String path, Object node) {
    if (!(node instanceof List<?> l)) {
      throw new IllegalArgumentException(where + path + ": must be a list");
    }
    return l;
  }

  private static List<String> texts(String where, String path, Object node) {
    List<?> l = list(where, path, node);
    List<String> out = new ArrayList<>();
    for (int i = 0; i < l.size(); i++) {
      out.add(text(where, path + "[" + i + "]", l.get(i)));
    }
    return out;
  }

  private static String text(String where, String path, Object node) {
    if (node instanceof String s) {
      return s;
    }
    if (node instanceof Number || node instanceof Boolean) {
      // YAML reads `prod: true` or `tier: 1` as non-strings; label values are strings.
      return String.valueOf(node);
    }
    throw new IllegalArgumentException(where + path + ": must be a string");
  }
}
