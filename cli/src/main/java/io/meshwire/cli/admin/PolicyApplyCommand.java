package io.meshwire.cli.admin;

import io.meshwire.proto.admin.v1.ApplyPolicyRequest;
import io.meshwire.proto.admin.v1.ApplyPolicyResponse;
import io.meshwire.proto.policy.v1.PeeringPolicy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code PolicyApplyCommand} is {@code meshwire policy apply -f FILE}: creates or replaces policies. */
@Command(
    name = "apply",
    description = {
      "Create or replace the PeeringPolicy documents of a YAML file (several separated by ---), in order.",
      "Each agent is sent only the peers it gains or loses. A policy that would leave no two clusters "
          + "connected is refused unless --force is given."
    })
public final class PolicyApplyCommand implements Runnable {

  @Mixin private AdminOptions admin;

  @Option(names = {"-f", "--filename"}, required = true, paramLabel = "FILE", description = "Policy YAML file ('-': stdin).")
  private String file;

  @Option(names = "--force", description = "Apply even a policy that isolates every cluster.")
  private boolean force;

  @Override
  public void run() {
    String text;
    try {
      text = file.equals("-") ? new String(System.in.readAllBytes(), StandardCharsets.UTF_8)
          : Files.readString(Path.of(file));
    } catch (IOException e) {
      throw new UncheckedIOException(file + ": " + e.getMessage(), e);
    }
    List<PeeringPolicy> policies = PolicyYaml.parse(file, text);
    List<ApplyPolicyResponse> responses = new ArrayList<>();
    try (AdminConnection hub = admin.connect()) {
      for (PeeringPolicy p : policies) {
        ApplyPolicyResponse r = hub.call().applyPolicy(ApplyPolicyRequest.newBuilder().setPolicy(p).setForce(force).build());
        responses.add(r);
        if (!admin.json()) {
          admin.out().println("policy " + p.getName() + (r.getUnchanged() ? " unchanged"
              : " applied at revision " + r.getRevision() + ", agents changed " + r.getAffectedAgents()));
          admin.out().flush();
        }
      }
    }
    if (admin.json()) {
      admin.printJson(responses);
    }
  }
}
