package io.meshwire.agent;

import io.meshwire.agent.config.AgentConfig;
import java.time.InstantSource;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * {@code AgentMain} runs an agent until SIGTERM/SIGINT, from {@code --<setting> VALUE} flags (see
 * {@link AgentConfig#KEYS}). The {@code meshwire agent} command delegates here.
 */
public final class AgentMain {

  private AgentMain() {}

  public static void main(String[] args) throws Exception {
    AgentConfig config;
    try {
      config = AgentConfig.parse(flags(args));
    } catch (IllegalArgumentException e) {
      System.err.println("meshwire agent: " + e.getMessage());
      System.exit(2);
      return;
    }
    try {
      run(config);
    } catch (IllegalArgumentException e) { // a setting the start found unusable (e.g. no join token)
      System.err.println("meshwire agent: " + e.getMessage());
      System.exit(2);
    }
  }

  /** Parses {@code --key value} and {@code --key=value} pairs. */
  public static Map<String, String> flags(String[] args) {
    Map<String, String> flags = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (!arg.startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument \"" + arg + "\"");
      }
      String key = arg.substring(2);
      int eq = key.indexOf('=');
      if (eq >= 0) {
        flags.put(key.substring(0, eq), key.substring(eq + 1));
      } else if (key.equals("accept-hub-state")) {
        flags.put(key, "true");
      } else {
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException("--" + key + " needs a value");
        }
        flags.put(key, args[++i]);
      }
    }
    return flags;
  }

  /** Starts the agent and blocks until the JVM is asked to stop. */
  public static void run(AgentConfig config) throws Exception {
    Agent agent = Agent.start(config, InstantSource.system());
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      agent.close();
      stopped.countDown();
    }, "agent-shutdown"));
    System.out.println("READY " + config.clusterId() + agent.httpPort().map(p -> " http=" + p).orElse(""));
    System.out.flush();
    stopped.await();
  }
}
