package io.meshwire.cli.admin;

import io.meshwire.cli.Table;
import io.meshwire.proto.admin.v1.ListPoliciesRequest;
import io.meshwire.proto.admin.v1.ListPoliciesResponse;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code PolicyListCommand} is {@code meshwire policy list}: one row per policy. */
@Command(name = "list", description = "List the peering policies and the hub's default peering.")
public final class PolicyListCommand implements Runnable {

  @Mixin private AdminOptions admin;

  @Override
  public void run() {
    ListPoliciesResponse response;
    try (AdminConnection hub = admin.connect()) {
      response = hub.call().listPolicies(ListPoliciesRequest.getDefaultInstance());
    }
    if (admin.json()) {
      admin.printJson(response);
      return;
    }
    Table table = Table.withHeader("POLICY", "MODE", "CLUSTERS", "PEERS");
    response.getPoliciesList().forEach(p -> table.row(p.getName(), PolicyYaml.mode(p.getMode()),
        PolicyYaml.describe(p.getClusters()), PolicyYaml.describe(p.getPeers())));
    table.print(admin.out());
    admin.out().println("default peering: " + response.getDefaultPeering()
        + (response.getPoliciesCount() == 0 && response.getDefaultPeering().equals("allow") ? " (full mesh)" : ""));
    admin.out().flush();
  }
}
