package io.meshwire.loadtests.report;

import io.meshwire.loadtests.process.CpuSet;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;

/** {@code Machine} describes where a bench ran: CPUs, memory, JDK, OS and when. Immutable. */
public record Machine(int cpus, String cpuModel, long memoryBytes, String jdk, String os, Instant date) {

  public static Machine current() {
    return new Machine(onlineCpus(), readCpuModel(), memTotal(),
        System.getProperty("java.vm.vendor") + " " + System.getProperty("java.runtime.version"),
        System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"),
        Instant.now().truncatedTo(ChronoUnit.SECONDS));
  }

  /**
   * The machine's CPUs, not this JVM's share: a pinned bench ({@code --pin-load}) sees only its
   * own CPUs in {@code availableProcessors()}, and the report said "1 CPUs" for a 2-CPU machine.
   */
  private static int onlineCpus() {
    try {
      return CpuSet.online().cardinality();
    } catch (UncheckedIOException | IllegalArgumentException e) {
      return Runtime.getRuntime().availableProcessors();
    }
  }

  private static String readCpuModel() {
    try {
      return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
          .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("unknown");
    } catch (IOException e) {
      return "unknown";
    }
  }

  private static long memTotal() {
    try {
      return Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal:"))
          .findFirst().map(l -> Long.parseLong(l.replaceAll("[^0-9]", "")) * 1024).orElse(-1L);
    } catch (IOException e) {
      return -1;
    }
  }

  public String oneLine() {
    return String.format(java.util.Locale.ROOT, "%d CPUs (%s), %.1f GiB RAM, JDK %s, %s, %s", cpus, cpuModel,
        memoryBytes / (double) (1L << 30), jdk, os, date);
  }

  public Map<String, Object> toJson() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("cpus", cpus);
    m.put("cpu_model", cpuModel);
    m.put("memory_bytes", memoryBytes);
    m.put("jdk", jdk);
    m.put("os", os);
    m.put("date", date.toString());
    return m;
  }
}
