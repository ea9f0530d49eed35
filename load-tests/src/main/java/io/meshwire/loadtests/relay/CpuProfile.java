package io.meshwire.loadtests.relay;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code CpuProfile} says where a process's CPU goes while {@code bench path --profile} runs the
 * relayed one-stream iperf3: Linux {@code perf record} (cpu-clock samples, 999 Hz) on each process
 * (the relay, both agents), reported by shared object and grouped into components: the kernel
 * (syscalls and the TCP/UDP stacks), TLS (BoringSSL inside netty-tcnative: AES-GCM and record
 * framing), Java code compiled by the JIT (Netty's pipeline, frame copies), the JVM itself (GC, JIT
 * compilers, interpreter), libc (memcpy, malloc) and Netty's epoll JNI glue. Then the relay's
 * threads ({@code --sort comm}). Needs perf; a measurement aid, not a test.
 */
final class CpuProfile implements AutoCloseable {

  private final Map<String, Process> recorders = new LinkedHashMap<>();
  private final Map<String, Path> files = new LinkedHashMap<>();

  private CpuProfile() {}

  /** Starts one {@code perf record} per process ({@code name -> pid}). */
  static CpuProfile start(Map<String, Long> pids, Path dir) throws IOException {
    CpuProfile p = new CpuProfile();
    try {
      for (var e : pids.entrySet()) {
        Path file = dir.resolve("perf-" + e.getKey() + ".data");
        p.files.put(e.getKey(), file);
        p.recorders.put(e.getKey(), new ProcessBuilder("perf", "record", "-F", "999", "-p",
            String.valueOf(e.getValue()), "-o", file.toString()).redirectErrorStream(true)
            .redirectOutput(dir.resolve("perf-" + e.getKey() + ".log").toFile()).start());
      }
    } catch (IOException e) { // e.g. perf not installed: stop the recorders already started
      p.close();
      throw e;
    }
    return p;
  }

  /** Stops recording (SIGTERM: perf writes its file) and returns the report. */
  String stopAndReport() throws IOException, InterruptedException {
    close();
    StringBuilder out = new StringBuilder("where the CPU goes during the relayed 1-stream iperf3 (perf, cpu-clock "
        + "samples by shared object, % of each process's samples):\n");
    for (var e : files.entrySet()) {
      Map<String, Double> components = new LinkedHashMap<>();
      for (String[] row : report(e.getValue(), "dso")) {
        components.merge(component(row[1]), Double.parseDouble(row[0]), Double::sum);
      }
      out.append("  ").append(e.getKey()).append(':');
      components.entrySet().stream().sorted(Map.Entry.<String, Double>comparingByValue().reversed())
          .forEach(c -> out.append(String.format(Locale.ROOT, " %s %.1f%%;", c.getKey(), c.getValue())));
      out.append('\n');
    }
    Path relay = files.get("relay");
    if (relay != null) {
      out.append("  relay threads:");
      report(relay, "comm").stream().limit(6)
          .forEach(r -> out.append(String.format(Locale.ROOT, " %s %.1f%%;", r[1], Double.parseDouble(r[0]))));
      out.append('\n');
    }
    return out.toString();
  }

  static String component(String dso) {
    if (dso.contains("kernel")) {
      return "kernel";
    } else if (dso.contains("tcnative")) {
      return "TLS (BoringSSL)";
    } else if (dso.startsWith("[JIT]")) {
      return "Java (JIT code)";
    } else if (dso.startsWith("libjvm")) {
      return "JVM (GC, compilers, interpreter)";
    } else if (dso.startsWith("libc")) {
      return "libc";
    } else if (dso.contains("netty_transport_native_epoll")) {
      return "Netty epoll JNI";
    }
    return "other";
  }

  /** {percent, key} rows of {@code perf report --sort key}. */
  private static List<String[]> report(Path file, String key) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("perf", "report", "-i", file.toString(), "--sort", key, "--stdio", "-q")
        .redirectErrorStream(false).start();
    String text = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    p.waitFor(60, TimeUnit.SECONDS);
    List<String[]> rows = new ArrayList<>();
    for (String line : text.split("\n")) {
      String t = line.strip();
      int pct = t.indexOf('%');
      if (pct > 0 && !t.startsWith("#")) {
        rows.add(new String[] {t.substring(0, pct).strip(), t.substring(pct + 1).strip()});
      }
    }
    return rows;
  }

  @Override
  public void close() {
    for (Process p : recorders.values()) {
      p.destroy();
    }
    for (Process p : recorders.values()) {
      try {
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        p.destroyForcibly();
      }
    }
  }
}
