package io.meshwire.cli.admin;

import io.meshwire.proto.admin.v1.RevokeJoinTokenRequest;
import io.meshwire.proto.admin.v1.RevokeJoinTokenResponse;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code TokenRevokeCommand} is {@code meshwire token revoke}: makes an unused token worthless. */
@Command(name = "revoke", description = "Revoke a join token by its ID (see 'meshwire token list').")
public final class TokenRevokeCommand implements Runnable {

  @Mixin private AdminOptions admin;

  @Parameters(paramLabel = "TOKEN_ID", description = "Token ID (not the secret token).")
  private String tokenId;

  @Override
  public void run() {
    RevokeJoinTokenResponse response;
    try (AdminConnection hub = admin.connect()) {
      response = hub.call().revokeJoinToken(RevokeJoinTokenRequest.newBuilder().setTokenId(tokenId).build());
    }
    if (admin.json()) {
      admin.printJson(response);
    } else {
      admin.out().println("revoked token " + tokenId);
      admin.out().flush();
    }
  }
}
