package io.meshwire.cli.admin;

import io.meshwire.cli.Table;
import io.meshwire.proto.admin.v1.JoinTokenInfo;
import io.meshwire.proto.admin.v1.ListJoinTokensRequest;
import io.meshwire.proto.admin.v1.ListJoinTokensResponse;
import java.util.Comparator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code TokenListCommand} is {@code meshwire token list}: every join token the hub knows, oldest first. */
@Command(name = "list", description = "List join tokens: ID, cluster, state (ACTIVE, USED, EXPIRED, REVOKED), times.")
public final class TokenListCommand implements Runnable {

  @Mixin private AdminOptions admin;

  @Override
  public void run() {
    ListJoinTokensResponse response;
    try (AdminConnection hub = admin.connect()) {
      response = hub.call().listJoinTokens(ListJoinTokensRequest.getDefaultInstance());
    }
    if (admin.json()) {
      admin.printJson(response);
      return;
    }
    Table table = Table.withHeader("TOKEN ID", "CLUSTER", "STATE", "CREATED", "EXPIRES");
    response.getTokensList().stream()
        .sorted(Comparator.comparing((JoinTokenInfo t) -> Cells.instant(t.getCreatedAt()))
            .thenComparing(JoinTokenInfo::getTokenId))
        .forEach(t -> table.row(t.getTokenId(), t.getClusterId(), Cells.enumValue(t.getState()),
            Cells.time(t.getCreatedAt()), Cells.time(t.getExpiresAt())));
    table.print(admin.out());
  }
}
