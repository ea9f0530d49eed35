package io.meshwire.cli.admin;

import io.meshwire.cli.DurationConverter;
import io.meshwire.proto.admin.v1.CreateJoinTokenRequest;
import io.meshwire.proto.admin.v1.CreateJoinTokenResponse;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code TokenCreateCommand} is {@code meshwire token create}. In table mode it prints the token
 * alone, so that {@code TOKEN=$(meshwire token create --cluster east)} captures it.
 */
@Command(
    name = "create",
    description = {
      "Create a one-time join token that can enroll one cluster ID.",
      "Prints the token alone, for scripts: TOKEN=$(meshwire token create --cluster east). It is shown "
          + "once; the hub keeps only its hash. With -o json, prints the token and its info (token ID, "
          + "expiry)."
    })
public final class TokenCreateCommand implements Runnable {

  @Mixin private AdminOptions admin;

  @Option(names = "--cluster", required = true, paramLabel = "CLUSTER",
      description = "The only cluster ID the token can enroll.")
  private String clusterId;

  @Option(names = "--ttl", paramLabel = "DURATION", defaultValue = "1h", converter = DurationConverter.class,
      description = "How long the token is valid, 1m to 7d (default: ${DEFAULT-VALUE}).")
  private Duration ttl;

  @Option(names = "--label", paramLabel = "KEY=VALUE",
      description = "A label of the cluster, for peering policies (repeatable; replaces the cluster's labels).")
  private List<String> labels = List.of();

  @Override
  public void run() {
    LabelArgs args = LabelArgs.parse(labels);
    if (!args.remove().isEmpty()) {
      throw new IllegalArgumentException("--label " + args.remove().get(0) + "-: removing is for 'meshwire clusters label'");
    }
    CreateJoinTokenResponse response;
    try (AdminConnection hub = admin.connect()) {
      response = hub.call().createJoinToken(CreateJoinTokenRequest.newBuilder()
          .setClusterId(clusterId)
          .setTtl(com.google.protobuf.Duration.newBuilder().setSeconds(ttl.getSeconds()).setNanos(ttl.getNano()))
          .putAllLabels(args.set())
          .build());
    }
    if (admin.json()) {
      admin.printJson(response);
    } else {
      admin.out().println(response.getToken());
      admin.out().flush();
    }
  }
}
