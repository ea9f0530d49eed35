package io.meshwire.testsupport.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.netlab.lab.AgentJvmOptions;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentJvmOptionsTest {

  /** The one file every launcher of the agent passes to java. */
  private static final Path SHIPPED = Path.of("../mesh-agent/src/main/resources", AgentJvmOptions.ENTRY);

  @Test
  void commentsAndBlankLinesAreNotOptions() {
    assertEquals(List.of("-XX:+UseSerialGC", "-Xmx64m", "-Xss512k"),
        AgentJvmOptions.parse("# why\n\n-XX:+UseSerialGC   # the GC\n  -Xmx64m -Xss512k\n#-Xint\n"));
  }

  @Test
  void theOptionsAreReadFromTheJarThatRunsTheAgent(@TempDir Path dir) throws IOException {
    Path jar = dir.resolve("meshwire.jar");
    try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(jar))) {
      zip.putNextEntry(new ZipEntry(AgentJvmOptions.ENTRY));
      zip.write("-Xmx64m\n".getBytes(StandardCharsets.UTF_8));
    }
    assertEquals(List.of("-Xmx64m"), AgentJvmOptions.fromJar(jar));
  }

  @Test
  void aJarWithoutTheOptionsIsRefusedNamingIt(@TempDir Path dir) throws IOException {
    Path jar = dir.resolve("old.jar");
    try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(jar))) {
      zip.putNextEntry(new ZipEntry("other"));
    }
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> AgentJvmOptions.fromJar(jar));
    assertTrue(e.getMessage().contains(AgentJvmOptions.ENTRY), e.getMessage());
  }

  /** A typo in the file would stop every agent at start: the JDK that builds (>= 21) must accept it, silently. */
  @Test
  void theShippedOptionsFileIsAcceptedByJava() throws Exception {
    assertFalse(AgentJvmOptions.parse(Files.readString(SHIPPED)).isEmpty(), "the agent has JVM options");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p = new ProcessBuilder(java, "@" + SHIPPED.toAbsolutePath(), "-version").redirectErrorStream(true)
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "java -version finished");
    assertEquals(0, p.exitValue(), out);
    assertFalse(out.contains("warning") || out.contains("Unrecognized"), out);
  }
}
