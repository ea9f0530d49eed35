package io.meshwire.cli.agent;

import io.meshwire.agent.config.AgentConfig;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * {@code AgentArgs} reads a plain {@code meshwire agent --<option> VALUE ...} command line without
 * picocli, so that a running agent never loads the command-line library: picocli's classes are
 * compiled for Java 5, which no class data sharing archive of JDK 21 to 25 can hold ("Old class
 * has been linked"), so every start parsed and verified about 190 of them from the jar, and the
 * parse's garbage grew the old generation. {@code bench agent}: 106.9 MiB RSS with picocli against
 * 100.2 without (load-tests/README.md, "Agent footprint").
 *
 * <p>It accepts only what {@link AgentCommand} would read the same way: each option of {@code
 * AgentCommand} at most once, as {@code --name VALUE} (a value not starting with {@code -}) or
 * {@code --name=VALUE}, and {@code --accept-hub-state} bare. Anything else (help, a subcommand, a
 * subcommand's name as a separate value, which picocli refuses, {@code --verbose}, a repeated or
 * unknown option, settings {@link AgentConfig} refuses) returns
 * empty, and the caller runs picocli, which reports it as it always did. Stateless.
 */
public final class AgentArgs {

  /** The options of {@link AgentCommand}: every agent setting but the join token's value itself. */
  static final Set<String> OPTIONS = AgentConfig.KEYS.stream()
      .filter(key -> !key.equals("join-token"))
      .collect(Collectors.toUnmodifiableSet());

  /** The names of {@link AgentCommand}'s subcommands (picocli will not take one as an option's value). */
  static final Set<String> SUBCOMMANDS = Set.of("rejoin");

  /** Where {@code meshwire agent} serves /metrics, /status and /ready unless told otherwise. */
  static final String DEFAULT_METRICS_LISTEN = "127.0.0.1:9470";

  private AgentArgs() {}

  /**
   * The agent's configuration from {@code args} (the whole command line, {@code "agent"} first),
   * or empty when picocli must read them (see the class comment).
   */
  public static Optional<AgentConfig> config(String[] args) {
    if (args.length < 1 || !args[0].equals("agent")) {
      return Optional.empty();
    }
    Map<String, String> settings = new LinkedHashMap<>();
    for (int i = 1; i < args.length; i++) {
      String arg = args[i];
      if (!arg.startsWith("--")) {
        return Optional.empty();
      }
      int eq = arg.indexOf('=');
      String name = eq >= 0 ? arg.substring(2, eq) : arg.substring(2);
      String value;
      if (!OPTIONS.contains(name) || settings.containsKey(name)) {
        return Optional.empty();
      }
      if (name.equals("accept-hub-state")) {
        if (eq >= 0) {
          return Optional.empty();
        }
        value = "true";
      } else if (eq >= 0) {
        value = arg.substring(eq + 1);
      } else if (i + 1 < args.length && !args[i + 1].startsWith("-") && !SUBCOMMANDS.contains(args[i + 1])) {
        value = args[++i];
      } else {
        return Optional.empty();
      }
      settings.put(name, value);
    }
    settings.putIfAbsent("metrics-listen", DEFAULT_METRICS_LISTEN);
    try {
      return Optional.of(AgentConfig.parse(settings));
    } catch (RuntimeException e) { // picocli reads them again and reports the problem as a usage error
      return Optional.empty();
    }
  }
}
