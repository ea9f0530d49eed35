package io.meshwire.testsupport.netns;

import io.meshwire.netlab.netns.Exec;
import io.meshwire.netlab.netns.ExecResult;
import io.meshwire.netlab.netns.NetworkNamespaces;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * {@code Requirements} says what a network-namespace test lacks on this machine: root, {@code ip
 * netns}, {@code /dev/net/tun}, {@code wireguard-go}, {@code wg}. {@link #enforce()} skips the test
 * with that list, or fails it when the environment variable {@value #REQUIRED_ENV} is {@code 1}
 * (CI sets it, so a broken runner cannot pass by skipping everything). Immutable.
 *
 * @param missing one line per missing requirement; empty when all are met
 */
public record Requirements(List<String> missing) {
  /** Set to {@code 1} to turn a missing requirement into a test failure. */
  public static final String REQUIRED_ENV = "MESHWIRE_E2E_REQUIRED";

  public Requirements {
    missing = List.copyOf(missing);
  }

  /** Probes this machine. Takes a few milliseconds; creates and deletes one probe namespace. */
  public static Requirements check() {
    List<String> missing = new ArrayList<>();
    long uid = effectiveUid();
    if (uid != 0) {
      missing.add("not root (euid " + uid + "): namespaces and WireGuard need root");
    }
    if (!onPath("ip")) {
      missing.add("ip (iproute2) not found on PATH");
    } else {
      ExecResult list = Exec.run(List.of("ip", "netns", "list"));
      if (!list.ok()) {
        missing.add("ip netns unavailable: " + list.stderr().strip());
      } else if (uid == 0) {
        String probe = NetworkNamespaces.PREFIX + "-probe-" + ProcessHandle.current().pid();
        ExecResult add = Exec.run(List.of("ip", "netns", "add", probe));
        if (!add.ok()) {
          missing.add("cannot create a network namespace: " + add.stderr().strip());
        } else {
          Exec.run(List.of("ip", "netns", "del", probe));
        }
      }
    }
    if (!Files.exists(Path.of("/dev/net/tun"))) {
      missing.add("/dev/net/tun missing: wireguard-go needs a TUN device");
    }
    if (!onPath("wireguard-go")) {
      missing.add("wireguard-go not found on PATH (Debian: apt-get install wireguard-go)");
    }
    if (!onPath("wg")) {
      missing.add("wg not found on PATH (Debian: apt-get install wireguard-tools)");
    }
    return new Requirements(missing);
  }

  /**
   * These requirements plus each of {@code tools} on the PATH.
   *
   * @param tools program name to the Debian package that installs it, e.g. {@code nft -> nftables}
   */
  public Requirements andTools(Map<String, String> tools) {
    List<String> all = new ArrayList<>(missing);
    new java.util.TreeMap<>(tools).forEach((tool, pkg) -> {
      if (!onPath(tool)) {
        all.add(tool + " not found on PATH (Debian: apt-get install " + pkg + ")");
      }
    });
    return new Requirements(all);
  }

  /** Whether nothing is missing. */
  public boolean met() {
    return missing.isEmpty();
  }

  /**
   * Returns if all requirements are met; otherwise aborts the test (it is reported as skipped),
   * or fails it when {@value #REQUIRED_ENV}{@code =1}.
   */
  public void enforce() {
    enforce(System.getenv());
  }

  void enforce(Map<String, String> env) {
    if (met()) {
      return;
    }
    String message = "network namespace test needs: " + String.join("; ", missing);
    if ("1".equals(env.get(REQUIRED_ENV))) {
      Assertions.fail(message + " (" + REQUIRED_ENV + "=1, so this fails instead of skipping)");
    }
    Assumptions.abort(message);
  }

  private static long effectiveUid() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("Uid:")) {
          return Long.parseLong(line.substring(4).strip().split("\\s+")[1]);
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }

  static boolean onPath(String program) {
    String path = System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
    for (String dir : path.split(":")) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
        return true;
      }
    }
    return false;
  }
}
