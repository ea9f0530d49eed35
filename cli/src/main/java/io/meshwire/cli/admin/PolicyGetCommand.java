package io.meshwire.cli.admin;

import io.meshwire.proto.admin.v1.GetPolicyRequest;
import io.meshwire.proto.policy.v1.PeeringPolicy;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code PolicyGetCommand} is {@code meshwire policy get NAME}: the policy as a YAML document. */
@Command(name = "get", description = "Print one policy as the YAML document 'policy apply -f' reads.")
public final class PolicyGetCommand implements Runnable {

  @Mixin private AdminOptions admin;

  @Parameters(paramLabel = "NAME", description = "Policy name.")
  private String name;

  @Override
  public void run() {
    PeeringPolicy policy;
    try (AdminConnection hub = admin.connect()) {
      policy = hub.call().getPolicy(GetPolicyRequest.newBuilder().setName(name).build());
    }
    if (admin.json()) {
      admin.printJson(policy);
    } else {
      admin.out().print(PolicyYaml.write(policy));
      admin.out().flush();
    }
  }
}
