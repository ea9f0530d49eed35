package io.meshwire.cli.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.agent.config.AgentConfig;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@link AgentArgs} reads what picocli would read, the same way, and leaves the rest to picocli. */
class AgentArgsTest {

  private static final List<String> REQUIRED = List.of("--cluster-id", "east", "--state-dir", "/var/lib/meshwire",
      "--hub", "127.0.0.1:7443", "--endpoint", "10.0.0.1:51820", "--pod-cidrs", "10.244.0.0/16");

  @Test
  void readsTheSameConfigurationAsTheAgentCommand() {
    for (List<String> args : List.of(
        REQUIRED,
        List.of("--cluster-id=east", "--state-dir=/var/lib/meshwire/", "--hub=127.0.0.1:7443,10.0.0.9:443",
            "--endpoint", "10.0.0.1:51820,192.0.2.1:51820", "--pod-cidrs", "10.244.0.0/16,fd00:10::/64",
            "--service-cidrs", "10.96.0.0/12", "--accept-hub-state", "--metrics-listen", "off", "--interface", "mw7",
            "--listen-port", "51830", "--probe-port=51900", "--path-misses", "5", "--relay-idle-close", "2m",
            "--remap-pools", "100.80.0.0/12", "--reserved-cidrs", "192.168.0.0/24", "--peer-channel", "10.244.0.1:7444",
            "--persistent-keepalive", "20s", "--link-down-after", "70s", "--wireguard", "userspace"))) {
      Optional<AgentConfig> direct = AgentArgs.config(agent(args));
      assertTrue(direct.isPresent(), args.toString());
      assertEquals(viaPicocli(args), direct.get(), args.toString());
    }
  }

  @Test
  void leavesToPicocliWhatItWouldReadDifferentlyOrRefuse() {
    for (List<String> args : List.<List<String>>of(
        List.of("--help"),
        List.of("rejoin", "--state-dir", "/tmp/s"),
        List.of(),
        with("--verbose"),
        with("--hub", "10.0.0.2:7443"), // given twice: picocli adds it to the list
        with("--interface", "mw1", "--interface", "mw2"),
        with("--accept-hub-state=true"),
        with("--join-token", "t0k3n"), // a setting of the agent, not an option of the command
        with("--nosuch", "x"),
        with("--interface"), // no value
        with("--interface", "-mw1"),
        with("--interface", "rejoin"), // picocli takes it for the subcommand: a usage error
        with("--listen-port", "seventy"), // AgentConfig refuses it: picocli reports the usage error
        List.of("east"))) {
      assertEquals(Optional.empty(), AgentArgs.config(agent(args)), args.toString());
    }
    assertEquals(Optional.empty(), AgentArgs.config(new String[] {"hub", "--data-dir", "/tmp/h"}));
  }

  @Test
  void knowsExactlyTheAgentCommandsOptions() {
    var declared = new CommandLine(new AgentCommand()).getCommandSpec().options().stream()
        .map(o -> o.longestName().substring(2))
        .collect(Collectors.toSet());
    assertEquals(declared, AgentArgs.OPTIONS);
    assertEquals(new CommandLine(new AgentCommand()).getSubcommands().keySet(), AgentArgs.SUBCOMMANDS);
  }

  private static AgentConfig viaPicocli(List<String> args) {
    AgentCommand command = new AgentCommand();
    new CommandLine(command).parseArgs(args.toArray(String[]::new));
    return AgentConfig.parse(command.settings());
  }

  private static List<String> with(String... more) {
    return java.util.stream.Stream.concat(REQUIRED.stream(), Arrays.stream(more)).toList();
  }

  private static String[] agent(List<String> args) {
    return java.util.stream.Stream.concat(java.util.stream.Stream.of("agent"), args.stream()).toArray(String[]::new);
  }
}
