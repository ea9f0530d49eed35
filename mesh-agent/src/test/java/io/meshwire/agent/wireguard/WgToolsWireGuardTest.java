package io.meshwire.agent.wireguard;

import static io.meshwire.agent.wireguard.TestKeys.key;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.agent.exec.CommandFailedException;
import io.meshwire.agent.exec.CommandRunner;
import io.meshwire.netaddr.Cidr;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Checks the commands the driver issues. The tools need root and namespaces; {@code
 * WireGuardTunnelIT} runs them for real.
 */
class WgToolsWireGuardTest {

  /** Answers each command from a script and records argv and stdin. */
  private static final class ScriptedRunner implements CommandRunner {
    final List<List<String>> argvs = new ArrayList<>();
    final List<String> stdins = new ArrayList<>();
    final List<Process> started = new ArrayList<>();
    final Function<List<String>, Result> script;

    ScriptedRunner(Function<List<String>, Result> script) {
      this.script = script;
    }

    @Override
    public synchronized Result run(List<String> argv, byte[] stdin, Duration timeout) {
      argvs.add(argv);
      stdins.add(new String(stdin, StandardCharsets.US_ASCII));
      Result result = script.apply(argv);
      if (result.exitCode() != 0) {
        throw CommandFailedException.exited(argv, result);
      }
      return result;
    }

    @Override
    public synchronized Process startDetached(List<String> argv, Path output) {
      argvs.add(argv);
      try {
        // Stands in for wireguard-go: a child that lives until it is stopped.
        Process p = new ProcessBuilder("sleep", "60").start();
        started.add(p);
        return p;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    synchronized boolean ran(String... argv) {
      return argvs.contains(List.of(argv));
    }
  }

  private static CommandRunner.Result ok(String stdout) {
    return new CommandRunner.Result(0, stdout, "");
  }

  private static CommandRunner.Result fail(String stderr) {
    return new CommandRunner.Result(1, "", stderr);
  }

  @Test
  void fallsBackToWireguardGoAndPassesThePrivateKeyOnStdinOnly() {
    AtomicInteger shows = new AtomicInteger();
    ScriptedRunner runner =
        new ScriptedRunner(argv -> switch (String.join(" ", argv)) {
          case "ip link show dev mwwg0" -> shows.get() == 0
              ? fail("Device \"mwwg0\" does not exist.")
              : ok("3: mwwg0: <POINTOPOINT,NOARP> mtu 1420");
          case "ip link add dev mwwg0 type wireguard" -> fail("Error: Unknown device type.");
          // wireguard-go needs a moment: the first poll finds no socket yet.
          case "wg show mwwg0 dump" -> shows.getAndIncrement() == 0
              ? fail("Unable to access interface: Protocol not supported")
              : ok("(none)\t(none)\t0\toff\n");
          default -> ok("");
        });
    try (WgToolsWireGuard wg = new WgToolsWireGuard(runner)) {
      wg.ensureInterface("mwwg0", 51820, key(7), Optional.of(Cidr.parse("10.101.255.1/32")));

      assertTrue(runner.ran("wireguard-go", "-f", "mwwg0"));
      assertTrue(runner.ran("wg", "set", "mwwg0", "listen-port", "51820", "private-key", "/dev/stdin"));
      assertTrue(runner.stdins.contains(key(7) + "\n"));
      assertTrue(runner.ran("ip", "-4", "address", "replace", "10.101.255.1/32", "dev", "mwwg0"));
      assertTrue(runner.ran("ip", "link", "set", "dev", "mwwg0", "up"));
      assertFalse(
          runner.argvs.stream().anyMatch(argv -> argv.contains(key(7))),
          "the private key must never be on a command line");
      assertEquals(Optional.of(runner.started.get(0).pid()), wg.userspacePid("mwwg0"));
    }
    assertFalse(runner.started.get(0).isAlive(), "close() stops wireguard-go");
  }

  @Test
  void changesNothingOnAnInterfaceThatIsAlreadyRight() {
    ScriptedRunner runner =
        new ScriptedRunner(argv -> switch (String.join(" ", argv)) {
          case "wg show wg0 dump" -> ok(key(7) + "\t" + key(8) + "\t51820\toff\n");
          default -> ok("");
        });
    WgToolsWireGuard wg = new WgToolsWireGuard(runner);
    wg.ensureInterface("wg0", 51820, key(7), Optional.empty());
    assertFalse(runner.argvs.stream().anyMatch(argv -> argv.contains("set") && argv.contains("wg")));
    assertTrue(runner.started.isEmpty());
  }

  @Test
  void setPeerWritesEndpointSortedAllowedIpsAndKeepalive() {
    ScriptedRunner runner = new ScriptedRunner(argv -> ok(""));
    WgToolsWireGuard wg = new WgToolsWireGuard(runner);
    wg.setPeer("wg0", new WgPeer(key(9),
        Optional.of(new InetSocketAddress(Cidr.parseAddress("fd00::12"), 51820)),
        List.of(Cidr.parse("10.202.0.0/16"), Cidr.parse("10.102.0.0/16")), Duration.ofSeconds(25)));
    wg.setPeer("wg0", new WgPeer(key(9), Optional.empty(), List.of(), Duration.ZERO));
    assertEquals(
        List.of(
            List.of("wg", "set", "wg0", "peer", key(9), "endpoint", "[fd00::12]:51820",
                "allowed-ips", "10.102.0.0/16,10.202.0.0/16", "persistent-keepalive", "25"),
            List.of("wg", "set", "wg0", "peer", key(9), "allowed-ips", "", "persistent-keepalive",
                "off")),
        runner.argvs);
  }

  @Test
  void aKernelOnlyDriverDoesNotFallBack() {
    ScriptedRunner runner =
        new ScriptedRunner(argv -> switch (String.join(" ", argv)) {
          case "ip link show dev wg0" -> fail("Device \"wg0\" does not exist.");
          case "ip link add dev wg0 type wireguard" -> fail("Error: Unknown device type.");
          default -> ok("");
        });
    WgToolsWireGuard wg = new WgToolsWireGuard(runner, new WgToolsWireGuard.Config(
        WgToolsWireGuard.Backend.KERNEL, "wireguard-go", Duration.ofSeconds(1), Duration.ofSeconds(1),
        Path.of("target")));
    CommandFailedException e =
        assertThrows(CommandFailedException.class,
            () -> wg.ensureInterface("wg0", 51820, key(7), Optional.empty()));
    assertEquals("[ip, link, add, dev, wg0, type, wireguard] exited 1: Error: Unknown device type.",
        e.getMessage());
    assertTrue(runner.started.isEmpty());
  }

  @Test
  void rejectsInterfaceNamesTheKernelWouldRefuse() {
    WgToolsWireGuard wg = new WgToolsWireGuard(new ScriptedRunner(argv -> ok("")));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> wg.show("wireguard-interface0"));
    assertEquals(
        "interface name \"wireguard-interface0\": must be 1..15 characters of [A-Za-z0-9_.-]",
        e.getMessage());
  }

  @Test
  void privateKeyErrorsDoNotQuoteTheKey() {
    WgToolsWireGuard wg = new WgToolsWireGuard(new ScriptedRunner(argv -> ok("")));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class,
            () -> wg.ensureInterface("wg0", 51820, "c2VjcmV0", Optional.empty()));
    assertEquals("interface wg0 private key (redacted): 6 bytes, a WireGuard key has 32", e.getMessage());
  }
}
