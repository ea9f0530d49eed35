package io.meshwire.charts;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** Each chart's README documents every value of its values.yaml in its values table. */
class ChartReadmeTest {

  /** Free-form maps documented as one row (their keys are Kubernetes' own). */
  private static final Set<String> FREE_FORM = Set.of("resources", "securityContext", "podSecurityContext");

  @ParameterizedTest
  @ValueSource(strings = {"meshwire-agent", "meshwire-hub"})
  void readmeDocumentsEveryValue(String chart) throws IOException {
    Path dir = HelmCharts.chart(chart);
    Map<String, Object> values = new Yaml(new SafeConstructor(new LoaderOptions()))
        .load(Files.readString(dir.resolve("values.yaml")));
    String readme = Files.readString(dir.resolve("README.md"));
    List<String> missing = new ArrayList<>();
    for (String key : leaves("", values)) {
      if (!readme.contains("| `" + key + "` |")) {
        missing.add(key);
      }
    }
    assertEquals(List.of(), missing, chart + "/README.md has no values table row for these values");
  }

  private static List<String> leaves(String prefix, Map<String, Object> map) {
    List<String> out = new ArrayList<>();
    map.forEach((key, value) -> {
      if (value instanceof Map<?, ?> child && !child.isEmpty() && !FREE_FORM.contains(key)) {
        @SuppressWarnings("unchecked")
        Map<String, Object> typed = (Map<String, Object>) child;
        out.addAll(leaves(prefix + key + ".", typed));
      } else {
        out.add(prefix + key);
      }
    });
    return out;
  }
}
