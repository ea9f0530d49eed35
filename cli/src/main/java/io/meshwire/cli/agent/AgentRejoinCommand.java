package io.meshwire.cli.agent;

import io.meshwire.agent.hub.HubClient;
import io.meshwire.agent.identity.Rejoin;
import io.meshwire.certs.MeshCa;
import io.meshwire.certs.Pem;
import io.meshwire.certs.SpiffeId;
import io.meshwire.certs.tls.TlsCredentials;
import io.meshwire.cli.Commands;
import io.meshwire.cli.Main;
import io.meshwire.netaddr.HostPort;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code AgentRejoinCommand} is {@code meshwire agent rejoin}: re-enrolls a cluster whose hub lost
 * its data (a new CA and mesh) with a new join token, replaces the credential set in the agent's
 * state directory atomically (the previous set is kept), and marks the state so that the agent
 * takes the new hub's state once although its mesh UID differs: a running agent sees the mark
 * within a second and reconnects with the new credentials; a stopped one at its start, after it
 * applied its persisted state. Either way the tunnels stay up.
 */
@Command(name = "rejoin", description = {
    "Re-enroll this cluster with a hub that lost its data (new CA and mesh); tunnels stay up.",
    "Enrolls with a new join token (verifying the hub with --hub-ca), replaces cluster.key, cluster.crt and",
    "ca.crt in --state-dir atomically (the previous set goes to replaced-<time>/), and marks the state so",
    "that the agent adopts the new hub's mesh once: a running agent within seconds, without a restart."})
public final class AgentRejoinCommand implements Callable<Integer> {

  @Spec private CommandSpec spec;

  @Option(names = "--state-dir", required = true, paramLabel = "DIR", description = "The agent's state directory.")
  Path stateDir;

  @Option(names = "--join-token-file", required = true, paramLabel = "FILE",
      description = "File holding a join token of the new hub for this cluster (meshwire token create).")
  Path joinTokenFile;

  @Option(names = "--hub-ca", required = true, paramLabel = "FILE",
      description = "The new hub's CA certificate (<hub data-dir>/ca/ca.crt).")
  Path hubCa;

  @Option(names = "--hub", required = true, split = ",", paramLabel = "HOST:PORT",
      description = "Hub address(es), as the agent's --hub.")
  List<String> hubs;

  @Option(names = "--cluster-id", paramLabel = "ID",
      description = "This cluster's ID (default: the one in the state directory's cluster.crt).")
  String clusterId;

  @Override
  public Integer call() throws IOException {
    List<HostPort> addresses;
    try {
      addresses = hubs.stream().map(HostPort::parse).toList();
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "Invalid value for option '--hub': " + e.getMessage());
    }
    String cluster = clusterId != null ? clusterId : clusterOfStateDir();
    String token = Files.readString(joinTokenFile).strip();
    if (token.isEmpty()) {
      throw new IllegalStateException(joinTokenFile + ": empty; put the token of 'meshwire token create --cluster "
          + cluster + "' (run against the new hub) in it");
    }
    X509Certificate ca = Pem.readCertificate(hubCa);
    String mesh = MeshCa.meshOf(ca);
    TlsCredentials fresh = HubClient.enroll(addresses, ca, mesh, cluster, token, Main.of(spec).clock());
    Path previous = Rejoin.commit(stateDir, fresh);
    PrintWriter out = Commands.out(spec);
    out.println("re-enrolled cluster " + cluster + " in mesh " + mesh + " (certificate not after "
        + fresh.leaf().getNotAfter().toInstant() + ")");
    out.println("credentials replaced in " + stateDir + "; the previous set is in " + previous);
    out.println("a running agent adopts the new hub's mesh within seconds, a stopped one at its start; tunnels"
        + " stay up, peers not yet in the new mesh are kept until they rejoin (meshwire agent-status: hub"
        + " connected, nothing held)");
    out.flush();
    return 0;
  }

  private String clusterOfStateDir() {
    Path crt = stateDir.resolve("cluster.crt");
    if (!Files.exists(crt)) {
      throw new ParameterException(spec.commandLine(), "Missing --cluster-id: " + crt
          + " does not exist to take the cluster ID from");
    }
    TlsCredentials old = TlsCredentials.load(stateDir, "cluster");
    try {
      return SpiffeId.of(old.leaf()).name();
    } catch (io.meshwire.certs.CertificateRejectedException e) {
      throw new ParameterException(spec.commandLine(), "Missing --cluster-id: " + crt + " names no cluster ("
          + e.getMessage() + ")");
    }
  }
}
