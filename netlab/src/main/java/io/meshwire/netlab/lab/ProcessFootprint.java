package io.meshwire.netlab.lab;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code ProcessFootprint} is what a process costs the machine right now, from Linux's own
 * accounting: resident memory from {@code /proc/<pid>/smaps_rollup} (kernel 4.14+; {@code Rss}
 * equals {@code VmRSS}, {@code Pss} splits shared pages among their users, private pages are the
 * process's alone) and its threads by name from {@code /proc/<pid>/task/}. Immutable.
 *
 * @param threadsByName thread names with digits folded ({@code grpc-nio-worker-ELG-1-2} counts as
 *     {@code grpc-nio-worker-ELG-N-N}; Linux keeps 15 characters), most numerous first
 */
public record ProcessFootprint(long rssBytes, long pssBytes, long privateBytes, Map<String, Integer> threadsByName) {

  private static final Pattern KB_FIELD = Pattern.compile("(\\w+):\\s+(\\d+) kB");

  public ProcessFootprint {
    threadsByName = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(threadsByName));
  }

  /** Reads {@code pid}'s footprint; fails naming the file when the process is gone. */
  public static ProcessFootprint of(long pid) {
    Path proc = Path.of("/proc", Long.toString(pid));
    Map<String, Long> kb = new LinkedHashMap<>();
    try {
      for (String line : Files.readAllLines(proc.resolve("smaps_rollup"))) {
        Matcher m = KB_FIELD.matcher(line);
        if (m.matches()) {
          kb.put(m.group(1), Long.parseLong(m.group(2)));
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + proc.resolve("smaps_rollup") + ": " + e.getMessage(), e);
    }
    long privateKb = kb.getOrDefault("Private_Clean", 0L) + kb.getOrDefault("Private_Dirty", 0L);
    return new ProcessFootprint(kb.getOrDefault("Rss", 0L) * 1024, kb.getOrDefault("Pss", 0L) * 1024,
        privateKb * 1024, threads(proc));
  }

  /** The number of threads. */
  public int threads() {
    return threadsByName.values().stream().mapToInt(Integer::intValue).sum();
  }

  private static Map<String, Integer> threads(Path proc) {
    Map<String, Integer> counts = new TreeMap<>();
    try (Stream<Path> tasks = Files.list(proc.resolve("task"))) {
      for (Path task : tasks.toList()) {
        try {
          counts.merge(Files.readString(task.resolve("comm")).strip().replaceAll("\\d+", "N"), 1, Integer::sum);
        } catch (IOException e) {
          // the thread ended between the listing and the read
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot list " + proc.resolve("task") + ": " + e.getMessage(), e);
    }
    Map<String, Integer> sorted = new LinkedHashMap<>();
    counts.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
        .forEach(e -> sorted.put(e.getKey(), e.getValue()));
    return sorted;
  }
}
