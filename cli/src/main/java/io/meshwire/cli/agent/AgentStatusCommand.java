package io.meshwire.cli.agent;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import io.meshwire.cli.Commands;
import io.meshwire.cli.Table;
import io.meshwire.cli.admin.Cells;
import io.meshwire.netaddr.HostPort;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code AgentStatusCommand} is {@code meshwire agent-status}: what a running agent reports on its
 * local HTTP listener ({@code /status} on its {@code --metrics-listen} address): hub connection,
 * sync state and each peer's link, as a table or as the agent's JSON.
 */
@Command(name = "agent-status", description = {
    "Show a running agent's status: hub connection, sync state, every peer's link.",
    "Reads /status from the agent's --metrics-listen address on this host (-o json prints it as is)."})
public final class AgentStatusCommand implements Callable<Integer> {

  /** Output formats of {@code -o}. */
  enum Format {
    TABLE,
    JSON
  }

  static final Duration TIMEOUT = Duration.ofSeconds(5);

  /** Top-level fields the table lays out itself; any other scalar field is printed as it comes. */
  private static final Set<String> LAID_OUT = Set.of("cluster", "hub_connected", "hub", "caught_up", "mesh_uid",
      "revision", "state_written_at", "peers", "reflection");

  @Spec private CommandSpec spec;

  @Option(names = "--agent", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:9470",
      description = "The agent's --metrics-listen address (default: ${DEFAULT-VALUE}).")
  String agent;

  @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
      description = "Output format: table or json (default: table).")
  Format output;

  @Override
  public Integer call() throws IOException, InterruptedException {
    HostPort address;
    try {
      address = HostPort.parse(agent);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "Invalid value for option '--agent': " + e.getMessage());
    }
    URI uri = URI.create("http://" + address + "/status");
    String body = fetch(uri);
    PrintWriter out = Commands.out(spec);
    if (output == Format.JSON) {
      out.print(body.endsWith("\n") ? body : body + "\n");
      out.flush();
      return 0;
    }
    JsonObject status;
    try {
      status = JsonParser.parseString(body).getAsJsonObject();
    } catch (JsonParseException | IllegalStateException e) {
      throw new IllegalStateException(uri + " answered something that is not an agent's status JSON: is "
          + address + " the agent's --metrics-listen address? (" + e.getMessage() + ")", e);
    }
    print(status, out);
    return 0;
  }

  private static String fetch(URI uri) throws IOException, InterruptedException {
    HttpClient http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
    HttpResponse<String> response;
    try {
      response = http.send(HttpRequest.newBuilder(uri).timeout(TIMEOUT).build(), HttpResponse.BodyHandlers.ofString());
    } catch (ConnectException | HttpConnectTimeoutException e) {
      throw new IllegalStateException("no agent answers at " + uri + " ("
          + (e instanceof ConnectException ? "connection refused" : "no connection within " + TIMEOUT.toSeconds() + "s")
          + "). Is the agent running on this host (in this network namespace or pod)? It serves /status on its"
          + " --metrics-listen address (default 127.0.0.1:9470): pass that address with --agent HOST:PORT."
          + " An agent started with --metrics-listen off has no status to show.", e);
    } catch (HttpTimeoutException e) {
      throw new IllegalStateException(uri + " accepted the connection but sent no answer within "
          + TIMEOUT.toSeconds() + "s: is it the agent's --metrics-listen address?", e);
    }
    if (response.statusCode() != 200) {
      throw new IllegalStateException(uri + " answered HTTP " + response.statusCode()
          + ": is it the agent's --metrics-listen address? (the agent answers /status with 200)");
    }
    return response.body();
  }

  /** The fields of the agent, then one row per peer. */
  static void print(JsonObject status, PrintWriter out) {
    Table fields = Table.fields();
    fields.row("cluster", text(status, "cluster"));
    if (status.get("hub") instanceof JsonObject hub) {
      // CONNECTING, CONNECTED, UNREACHABLE, REFUSED or REVOKED, since when, and the hub's last word
      fields.row("hub", text(hub, "condition").toLowerCase(java.util.Locale.ROOT)
          + (isSet(hub, "since") ? " since " + text(hub, "since") : ""));
      if (!text(hub, "detail").equals(Cells.NONE)) {
        fields.row("hub detail", text(hub, "detail"));
      }
    } else {
      fields.row("hub", flag(status, "hub_connected") ? "connected" : "not connected");
    }
    fields.row("caught up", Cells.yesNo(flag(status, "caught_up")));
    fields.row("mesh uid", text(status, "mesh_uid"));
    fields.row("revision", text(status, "revision"));
    fields.row("state written", text(status, "state_written_at"));
    for (Map.Entry<String, JsonElement> e : status.entrySet()) {
      // held, state_problem, and whatever a newer agent adds: shown when set
      if (!LAID_OUT.contains(e.getKey()) && e.getValue().isJsonPrimitive()) {
        fields.row(e.getKey().replace('_', ' '), e.getValue().getAsString());
      }
    }
    if (status.get("reflection") instanceof JsonObject reflection) {
      fields.row("reflection", "exported " + text(reflection, "exported") + ", imported from " + text(reflection, "sources")
          + " peer(s)");
    }
    fields.print(out);
    out.println();
    Table peers = Table.withHeader("PEER", "STATE", "ENDPOINT", "HANDSHAKE AGE", "RX", "TX", "SEEN AS", "VIEW", "PATH",
        "PATH SINCE");
    if (status.get("peers") != null && status.get("peers").isJsonArray()) {
      for (JsonElement element : status.getAsJsonArray("peers")) {
        JsonObject peer = element.getAsJsonObject();
        String age = isSet(peer, "handshake_age_seconds")
            ? Cells.duration(Duration.ofSeconds(peer.get("handshake_age_seconds").getAsLong())) : Cells.NONE;
        String seenAs = Cells.NONE;
        if (peer.get("seen_as") != null && peer.get("seen_as").isJsonArray() && !peer.getAsJsonArray("seen_as").isEmpty()) {
          seenAs = String.join(",", peer.getAsJsonArray("seen_as").asList().stream().map(JsonElement::getAsString).toList());
        }
        String view = peer.get("view") instanceof JsonObject v ? text(v, "condition") : Cells.NONE;
        peers.row(text(peer, "cluster"), text(peer, "state"), text(peer, "endpoint"), age,
            bytes(peer, "rx_bytes"), bytes(peer, "tx_bytes"), seenAs, view, text(peer, "path"),
            text(peer, "path_since"));
      }
    }
    peers.print(out);
  }

  private static boolean isSet(JsonObject o, String field) {
    return o.get(field) != null && !o.get(field).isJsonNull();
  }

  private static String text(JsonObject o, String field) {
    if (!isSet(o, field) || !o.get(field).isJsonPrimitive()) {
      return Cells.NONE;
    }
    String value = o.get(field).getAsString();
    return value.isEmpty() ? Cells.NONE : value;
  }

  private static boolean flag(JsonObject o, String field) {
    return isSet(o, field) && o.get(field).isJsonPrimitive() && o.get(field).getAsBoolean();
  }

  private static String bytes(JsonObject o, String field) {
    return isSet(o, field) ? Cells.bytes(o.get(field).getAsLong()) : Cells.NONE;
  }
}
