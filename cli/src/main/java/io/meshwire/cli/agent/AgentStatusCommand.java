package io.meshwire.cli.agent;

import io.meshwire.cli.Commands;
import io.meshwire.netaddr.HostPort;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code AgentStatusCommand} is {@code meshwire agent-status}: what a running agent reports on its
 * local HTTP listener (hub connection, sync state, each peer's link), as JSON.
 */
@Command(name = "agent-status", description = "Show a running agent's status (JSON from its /status).")
public final class AgentStatusCommand implements Callable<Integer> {

  @Spec private CommandSpec spec;

  @Option(names = "--agent", defaultValue = "127.0.0.1:9470", description = "The agent's metrics-listen address (default: ${DEFAULT-VALUE}).")
  String agent;

  @Override
  public Integer call() throws IOException, InterruptedException {
    HostPort hp = HostPort.parse(agent);
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://" + hp + "/status"))
        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IllegalStateException("agent at " + hp + " answered HTTP " + r.statusCode());
    }
    Commands.out(spec).print(r.body());
    return 0;
  }
}
