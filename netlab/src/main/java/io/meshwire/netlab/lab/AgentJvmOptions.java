package io.meshwire.netlab.lab;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * {@code AgentJvmOptions} reads the agent's JVM options from the jar that runs it: the entry
 * {@value #ENTRY}, a {@code java @file} argument file (one option per line, {@code #} comments),
 * the same file the {@code meshwire} launcher and the container image pass to {@code java}.
 * Stateless.
 */
public final class AgentJvmOptions {

  /** Where the options live in the jar (source: mesh-agent/src/main/resources/). */
  public static final String ENTRY = "io/meshwire/agent/agent.jvm-options";

  private AgentJvmOptions() {}

  /** The options in {@code jar}'s {@value #ENTRY}; fails naming the jar when it has none. */
  public static List<String> fromJar(Path jar) {
    try (ZipFile zip = new ZipFile(jar.toFile())) {
      ZipEntry entry = zip.getEntry(ENTRY);
      if (entry == null) {
        throw new IllegalStateException(jar + " has no " + ENTRY + " (an older build? rebuild it)");
      }
      try (InputStream in = zip.getInputStream(entry)) {
        return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + ENTRY + " from " + jar, e);
    }
  }

  /** The options in an argument file's text: words separated by white space, {@code #} to line end ignored. */
  public static List<String> parse(String text) {
    List<String> options = new ArrayList<>();
    for (String line : text.split("\n")) {
      int hash = line.indexOf('#');
      String content = (hash >= 0 ? line.substring(0, hash) : line).strip();
      if (!content.isEmpty()) {
        options.addAll(List.of(content.split("\\s+")));
      }
    }
    return List.copyOf(options);
  }
}
