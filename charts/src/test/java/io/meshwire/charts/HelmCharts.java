package io.meshwire.charts;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code HelmCharts} runs the real Helm engine (helm-java: Helm's Go code as a native library) on
 * the charts of this module: {@code helm lint} and {@code helm template} with values files from the
 * test resources and {@code --set} overrides. Not thread-safe: JUnit runs these tests one at a time.
 */
final class HelmCharts {

  static final String RELEASE = "mw";
  static final String NAMESPACE = "meshwire";

  private HelmCharts() {}

  /** The chart directory, e.g. {@code meshwire-agent}; tests run in the module's base directory. */
  static Path chart(String name) {
    Path dir = Path.of(name).toAbsolutePath();
    if (!Files.isRegularFile(dir.resolve("Chart.yaml"))) {
      throw new IllegalStateException("no chart at " + dir + " (run the tests from the charts module)");
    }
    return dir;
  }

  static LintResult lint(String chart) {
    return new Helm(chart(chart)).lint().strict().call();
  }

  /** A {@code helm template} call being put together. */
  static Render render(String chart) {
    return new Render(chart);
  }

  static final class Render {
    private final String chart;
    private final List<Path> valuesFiles = new ArrayList<>();
    private final Map<String, Object> sets = new LinkedHashMap<>();

    private Render(String chart) {
      this.chart = chart;
    }

    /** A values file under {@code src/test/resources/values/}, e.g. {@code agent/required.yaml}. */
    Render values(String resource) {
      URL url = HelmCharts.class.getResource("/values/" + resource);
      if (url == null) {
        throw new IllegalArgumentException("no test values file values/" + resource);
      }
      try {
        valuesFiles.add(Path.of(url.toURI()));
      } catch (URISyntaxException e) {
        throw new IllegalStateException(e);
      }
      return this;
    }

    /** {@code --set key=value} (Helm's syntax: {@code a.b[0]=x}, {@code list={x,y}}). */
    Render set(String key, Object value) {
      sets.put(key, value);
      return this;
    }

    /** The rendered manifests, each parsed and checked by {@link Manifests#parse}. */
    Manifests manifests() {
      return Manifests.parse(yaml());
    }

    /** The rendered YAML stream. */
    String yaml() {
      TemplateCommand template = new Helm(chart(chart)).template().withName(RELEASE).withNamespace(NAMESPACE);
      valuesFiles.forEach(template::withValuesFile);
      sets.forEach(template::set);
      return template.call();
    }

    /** What {@code helm install --dry-run=client} prints: the rendered NOTES.txt among it. */
    String installOutput() {
      var install = new Helm(chart(chart)).install().withName(RELEASE).withNamespace(NAMESPACE).dryRun().clientOnly();
      valuesFiles.forEach(install::withValuesFile);
      sets.forEach(install::set);
      return install.call().getOutput();
    }

    /** The message of Helm's refusal; fails the test if the chart renders. */
    String failure() {
      try {
        String rendered = yaml();
        throw new AssertionError("expected Helm to refuse the values, but it rendered:\n" + rendered);
      } catch (IllegalStateException e) {
        return e.getMessage();
      }
    }
  }
}
