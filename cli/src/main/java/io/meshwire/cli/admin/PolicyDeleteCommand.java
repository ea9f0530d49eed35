package io.meshwire.cli.admin;

import io.meshwire.proto.admin.v1.DeletePolicyRequest;
import io.meshwire.proto.admin.v1.DeletePolicyResponse;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code PolicyDeleteCommand} is {@code meshwire policy delete NAME}. */
@Command(name = "delete", description = "Delete one policy; agents are sent the peers they gain or lose.")
public final class PolicyDeleteCommand implements Runnable {

  @Mixin private AdminOptions admin;

  @Parameters(paramLabel = "NAME", description = "Policy name.")
  private String name;

  @Option(names = "--force", description = "Delete even when it isolates every cluster.")
  private boolean force;

  @Override
  public void run() {
    DeletePolicyResponse response;
    try (AdminConnection hub = admin.connect()) {
      response = hub.call().deletePolicy(DeletePolicyRequest.newBuilder().setName(name).setForce(force).build());
    }
    if (admin.json()) {
      admin.printJson(response);
    } else {
      admin.out().println("policy " + name + " deleted at revision " + response.getRevision() + ", agents changed "
          + response.getAffectedAgents());
      admin.out().flush();
    }
  }
}
