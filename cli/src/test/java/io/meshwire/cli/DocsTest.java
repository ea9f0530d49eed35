package io.meshwire.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The repository documents itself: README.md and docs/ link only to files the repository has, and
 * the {@code meshwire} commands they show exist with the options they use.
 */
class DocsTest {

  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)\\)");

  private static List<Path> documents() throws IOException {
    List<Path> docs = new ArrayList<>(List.of(ROOT.resolve("README.md")));
    try (Stream<Path> files = Files.list(ROOT.resolve("docs"))) {
      files.filter(f -> f.toString().endsWith(".md")).sorted().forEach(docs::add);
    }
    return docs;
  }

  @Test
  void linksStayInsideTheRepositoryAndResolve() throws IOException {
    List<String> broken = new ArrayList<>();
    for (Path doc : documents()) {
      Matcher m = LINK.matcher(Files.readString(doc));
      while (m.find()) {
        String target = m.group(1);
        if (target.matches("^(https?|mailto):.*") || target.startsWith("#")) {
          continue;
        }
        Path file = doc.getParent().resolve(target.replaceFirst("#.*$", "")).normalize();
        if (!file.startsWith(ROOT) || !Files.exists(file)) {
          broken.add(ROOT.relativize(doc) + ": " + target);
        }
      }
    }
    assertEquals(List.of(), broken);
  }

  /** Shell words of {@code line}: split at blanks outside single or double quotes, quotes removed. */
  private static List<String> words(String line) {
    List<String> words = new ArrayList<>();
    Matcher m = Pattern.compile("\"([^\"]*)\"|'([^']*)'|(\\S+)").matcher(line);
    while (m.find()) {
      words.add(m.group(1) != null ? m.group(1) : m.group(2) != null ? m.group(2) : m.group(3));
    }
    return words;
  }

  /** Every {@code meshwire ...} line of a code block parses: the command and its options exist. */
  @Test
  void commandsInCodeBlocksExistWithTheirOptions() throws IOException {
    List<String> wrong = new ArrayList<>();
    int checked = 0;
    for (Path doc : documents()) {
      boolean inCode = false;
      String pending = "";
      for (String line : Files.readAllLines(doc)) {
        if (line.startsWith("```")) {
          inCode = !inCode;
          continue;
        }
        if (!inCode) {
          continue;
        }
        String full = pending + line.strip();
        if (full.endsWith("\\")) {
          pending = full.substring(0, full.length() - 1) + " ";
          continue;
        }
        pending = "";
        int at = full.indexOf("meshwire ");
        if (at < 0 || (at > 0 && !full.substring(0, at).matches(".*(sudo |\\$\\(|\\./|^)"))) {
          continue;
        }
        String command = full.substring(at + "meshwire ".length()).replaceFirst("\\s+#.*$", "").replaceFirst("\\).*$", "");
        List<String> args = words(command);
        checked++;
        try {
          Main.commandLine(InstantSource.system()).parseArgs(args.toArray(String[]::new));
        } catch (CommandLine.UnmatchedArgumentException e) {
          wrong.add(ROOT.relativize(doc) + ": meshwire " + command + " -> " + e.getMessage());
        } catch (CommandLine.ParameterException e) {
          // a placeholder value (<token-id>, $TOKEN) or a required option left out for brevity
        }
      }
    }
    assertTrue(checked >= 6, "checked " + checked + " commands");
    assertEquals(List.of(), wrong);
  }
}
