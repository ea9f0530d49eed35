package io.meshwire.loadtests.footprint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code bench agent --variant NAME=OPTIONS} as an operator types it, before any agent starts. */
class AgentVariantTest {

  private static final Path LAB_JAR = Path.of("/builds/new/meshwire.jar");
  private static final Path OLD_JAR = Path.of("/builds/old/meshwire.jar");
  private static final Path WORK = Path.of("/tmp/bench-work");
  // Two builds that ship different agent options, as an A/B of an agent.jvm-options change has.
  private static final Map<Path, List<String>> SHIPPED = Map.of(
      LAB_JAR, List.of("-XX:+UseSerialGC", "-Xmx48m"),
      OLD_JAR, List.of("-XX:+UseSerialGC", "-Xmx64m"));

  private static AgentVariant parse(String spec) {
    return AgentVariant.parse(spec, false, LAB_JAR, WORK, SHIPPED::get);
  }

  @Test
  void shippedStandsForTheLabJarsOptionsAndExtraOptionsFollowThem() {
    AgentVariant v = parse("trim=@shipped -XX:TrimNativeHeapInterval=2000");

    assertEquals("trim", v.name());
    assertEquals(List.of("-XX:+UseSerialGC", "-Xmx48m", "-XX:TrimNativeHeapInterval=2000"), v.jvmOptions());
    assertEquals(LAB_JAR, v.jar());
    assertFalse(v.viaMainClass());
  }

  @Test
  void aVariantFromAnotherBuildRunsThatJarWithThatJarsShippedOptions() {
    AgentVariant v = parse("before=@shipped @jar=" + OLD_JAR);

    assertEquals(OLD_JAR, v.jar());
    assertEquals(List.of("-XX:+UseSerialGC", "-Xmx64m"), v.jvmOptions(),
        "the old build's agent.jvm-options, not the lab jar's, and no @jar= word among the JVM options");
  }

  @Test
  void eachVariantsArchiveIsItsOwnSoTwoVariantsNeverOverwriteOneArchive() {
    AgentVariant a = parse("a=@shipped @archive");
    AgentVariant b = parse("b=@shipped @archive");

    assertEquals(List.of("-XX:+UseSerialGC", "-Xmx48m", "-XX:SharedArchiveFile=/tmp/bench-work/variant-a.jsa",
        "-XX:+AutoCreateSharedArchive"), a.jvmOptions());
    assertTrue(b.jvmOptions().contains("-XX:SharedArchiveFile=/tmp/bench-work/variant-b.jsa"));
  }

  @Test
  void mainClassIsAWordOfTheVariantAndTheCommandsDefaultOtherwise() {
    assertTrue(parse("tests=@shipped @main-class").viaMainClass());
    assertTrue(AgentVariant.parse("x=@shipped", true, LAB_JAR, WORK, SHIPPED::get).viaMainClass());
  }

  @Test
  void anEmptyOptionSetIsTheJdksDefaults() {
    assertEquals(List.of(), parse("jdk-defaults=").jvmOptions());
  }

  @Test
  void malformedVariantsAreRefusedNamingWhatIsWrong() {
    assertEquals("--variant wants NAME=OPTIONS, got \"-Xmx32m\"",
        assertThrows(IllegalArgumentException.class, () -> parse("-Xmx32m")).getMessage());
    assertEquals("--variant old: @jar= wants a file",
        assertThrows(IllegalArgumentException.class, () -> parse("old=@shipped @jar=")).getMessage());
  }
}
