package io.meshwire.loadtests.footprint;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * {@code AgentVariant} is one {@code --variant NAME=OPTIONS} of {@code bench agent}: the measured
 * agent's JVM options, how it is launched and from which jar. Words of OPTIONS are JVM options,
 * except:
 * <ul>
 *   <li>{@value #SHIPPED}: the agent options of this variant's jar (its {@code agent.jvm-options});
 *   <li>{@value #ARCHIVE}: a class data sharing archive of this variant's own, as the launchers add
 *       one ({@code -XX:SharedArchiveFile=<work>/variant-NAME.jsa -XX:+AutoCreateSharedArchive}: the
 *       first run writes it when its agent exits, later runs map it);
 *   <li>{@value #MAIN_CLASS}: launched through the agent's main class rather than {@code -jar};
 *   <li>{@value #JAR}{@code FILE}: started from another build of meshwire.jar.
 * </ul>
 * Immutable.
 *
 * @param jar the jar the agent starts from; {@code @shipped} reads its options from this jar
 */
record AgentVariant(String name, List<String> jvmOptions, boolean viaMainClass, Path jar) {

  static final String SHIPPED = "@shipped";
  static final String ARCHIVE = "@archive";
  static final String MAIN_CLASS = "@main-class";
  static final String JAR = "@jar=";

  AgentVariant {
    jvmOptions = List.copyOf(jvmOptions);
  }

  /**
   * Parses {@code spec} ({@code NAME=OPTIONS}).
   *
   * @param mainClassByDefault whether variants without {@value #MAIN_CLASS} start through the main class
   * @param labJar the jar of the lab, for variants without {@value #JAR}
   * @param work where {@value #ARCHIVE} archives go
   * @param shippedOptions the agent options a jar ships ({@code AgentJvmOptions::fromJar})
   * @throws IllegalArgumentException naming the variant when it does not parse
   */
  static AgentVariant parse(String spec, boolean mainClassByDefault, Path labJar, Path work,
      Function<Path, List<String>> shippedOptions) {
    int eq = spec.indexOf('=');
    if (eq <= 0) {
      throw new IllegalArgumentException("--variant wants NAME=OPTIONS, got \"" + spec + "\"");
    }
    String name = spec.substring(0, eq);
    List<String> words = List.of(spec.substring(eq + 1).strip().split("\\s+"));
    // The jar first: @shipped means the options of the jar this variant runs.
    Path jar = labJar;
    for (String word : words) {
      if (word.startsWith(JAR)) {
        if (word.length() == JAR.length()) {
          throw new IllegalArgumentException("--variant " + name + ": " + JAR + " wants a file");
        }
        jar = Path.of(word.substring(JAR.length())).toAbsolutePath();
      }
    }
    List<String> options = new ArrayList<>();
    boolean viaMainClass = mainClassByDefault;
    for (String word : words) {
      switch (word) {
        case SHIPPED -> options.addAll(shippedOptions.apply(jar));
        case ARCHIVE -> options.addAll(List.of(
            "-XX:SharedArchiveFile=" + work.resolve("variant-" + name + ".jsa").toAbsolutePath(),
            "-XX:+AutoCreateSharedArchive"));
        case MAIN_CLASS -> viaMainClass = true;
        default -> {
          if (!word.isEmpty() && !word.startsWith(JAR)) {
            options.add(word);
          }
        }
      }
    }
    return new AgentVariant(name, options, viaMainClass, jar);
  }
}
