package io.meshwire.agent.wireguard;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GatewaySysctls} checks, and where it may sets, the kernel settings a gateway needs: IP
 * forwarding (IPv4, and IPv6 when the cluster has IPv6 pod CIDRs), without which workload traffic
 * through the tunnel is dropped without a word; and, when overlapping peers are remapped, no strict
 * reverse-path filter on the WireGuard interface (a remapped peer's packets arrive with a source the
 * routing table sends elsewhere, and strict mode drops them). A setting that is wrong is set (and
 * logged) when the agent may write it; otherwise it stays a problem, shown in status and counted in
 * a metric, with the command that fixes it. Reads {@code /proc/sys} of the agent's network namespace.
 *
 * <p>Thread-safe: each {@link #check} reads the files again.
 */
public final class GatewaySysctls {

  private static final Logger log = LoggerFactory.getLogger(GatewaySysctls.class);

  private final Path procSys;
  private final boolean mayChange;
  private final String ifName;
  private final boolean ipv6;
  private final boolean remapping;
  private final Set<String> said = ConcurrentHashMap.newKeySet();
  private volatile List<String> problems = List.of();

  /**
   * @param procSys {@code /proc/sys}, or a directory laid out like it in tests
   * @param mayChange whether to set wrong values (false: report only)
   * @param ifName the WireGuard interface
   * @param ipv6 whether IPv6 forwarding is needed too
   * @param remapping whether peers are remapped (then rp_filter matters)
   */
  public GatewaySysctls(Path procSys, boolean mayChange, String ifName, boolean ipv6, boolean remapping) {
    this.procSys = Objects.requireNonNull(procSys, "procSys");
    this.mayChange = mayChange;
    this.ifName = Objects.requireNonNull(ifName, "ifName");
    this.ipv6 = ipv6;
    this.remapping = remapping;
  }

  /** This network namespace's settings, changed where wrong and writable. */
  public static GatewaySysctls host(String ifName, boolean ipv6, boolean remapping) {
    return new GatewaySysctls(Path.of("/proc/sys"), true, ifName, ipv6, remapping);
  }

  /** What was still wrong at the last {@link #check}, each with its fix. */
  public List<String> problems() {
    return problems;
  }

  /**
   * Checks (and where possible fixes) the settings; returns what is still wrong, each with its
   * fix, empty when the gateway is fine. Never throws: a failure to read is a problem too.
   */
  public List<String> check() {
    List<String> problems = new ArrayList<>();
    require(List.of("net", "ipv4", "ip_forward"), "1", "workload traffic through the tunnels is dropped")
        .ifPresent(problems::add);
    if (ipv6) {
      require(List.of("net", "ipv6", "conf", "all", "forwarding"), "1",
          "IPv6 workload traffic through the tunnels is dropped").ifPresent(problems::add);
    }
    if (remapping) {
      List<String> own = List.of("net", "ipv4", "conf", ifName, "rp_filter");
      Optional<String> allValue = read(List.of("net", "ipv4", "conf", "all", "rp_filter"));
      Optional<String> ownValue = read(own);
      // The kernel applies the larger of "all" and the interface's value; 1 is strict, 2 loose.
      int effective = Math.max(allValue.map(GatewaySysctls::number).orElse(0),
          ownValue.map(GatewaySysctls::number).orElse(0));
      if (effective == 1 && ownValue.isPresent()) {
        require(own, "2", "strict reverse-path filtering drops remapped peers' traffic").ifPresent(problems::add);
      }
    }
    this.problems = List.copyOf(problems);
    return this.problems;
  }

  private Optional<String> require(List<String> path, String wanted, String consequence) {
    String name = String.join(".", path);
    Optional<String> value = read(path);
    if (value.isEmpty() || value.get().equals(wanted)) {
      return Optional.empty(); // not there (no IPv6, interface gone): nothing to check
    }
    try {
      if (!mayChange) {
        throw new IOException("not allowed to change it");
      }
      Files.writeString(file(path), wanted + "\n", StandardCharsets.US_ASCII);
      log.info("gateway setting changed sysctl={} from={} to={} why=\"{}\"", name, value.get(), wanted, consequence);
      said.remove(name);
      return Optional.empty();
    } catch (IOException | SecurityException e) {
      String problem = name + "=" + value.get() + ": " + consequence + "; the agent could not change it ("
          + e.getMessage() + "): run sysctl -w " + name + "=" + wanted + " on the gateway";
      if (said.add(name)) {
        log.warn("gateway setting wrong sysctl={} value={} wanted={} problem=\"{}\"", name, value.get(), wanted,
            problem);
      }
      return Optional.of(problem);
    }
  }

  private Optional<String> read(List<String> path) {
    try {
      return Optional.of(Files.readString(file(path), StandardCharsets.US_ASCII).strip());
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      return Optional.of("unreadable: " + e.getMessage());
    }
  }

  private Path file(List<String> path) {
    Path file = procSys;
    for (String part : path) {
      file = file.resolve(part);
    }
    return file;
  }

  private static int number(String value) {
    try {
      return Integer.parseInt(value);
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
