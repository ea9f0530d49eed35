package io.meshwire.cli.ca;

import io.meshwire.certs.Certificates;
import io.meshwire.certs.MeshCa;
import io.meshwire.certs.SpiffeId;
import io.meshwire.cli.Commands;
import io.meshwire.cli.DurationConverter;
import io.meshwire.cli.Main;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code CaInitCommand} is {@code meshwire ca init}: creates a mesh CA; never overwrites one. */
@Command(
    name = "init",
    description = {
      "Create a new mesh CA.",
      "Writes <dir>/ca.crt (0644) and <dir>/ca.key (0600); refuses to overwrite an existing CA."
    })
public final class CaInitCommand implements Runnable {

  @Spec private CommandSpec spec;

  @Option(names = "--mesh", required = true, paramLabel = "NAME",
      description = "Mesh name, the SPIFFE trust domain (a-z, 0-9, '.', '-').")
  private String mesh;

  @Option(names = "--dir", required = true, paramLabel = "DIR", description = "Directory for ca.crt and ca.key (created 0700 if missing).")
  private Path dir;

  @Option(names = "--validity", paramLabel = "DURATION", defaultValue = "3650d", converter = DurationConverter.class,
      description = "How long the CA is valid, e.g. 3650d (default: ${DEFAULT-VALUE}).")
  private Duration validity;

  @Override
  public void run() {
    try {
      SpiffeId.checkMesh(mesh);
    } catch (IllegalArgumentException e) {
      throw Commands.badValue(spec, "--mesh", e.getMessage());
    }
    MeshCa ca = MeshCa.create(mesh, validity, Main.of(spec).clock());
    ca.save(dir);
    PrintWriter out = Commands.out(spec);
    out.println("created CA for mesh " + mesh);
    out.println("certificate: " + dir.resolve(MeshCa.CERT_FILE));
    out.println("private key: " + dir.resolve(MeshCa.KEY_FILE) + " (keep it secret and backed up)");
    out.println("fingerprint: SHA256 " + Certificates.sha256Fingerprint(ca.certificate()));
    out.println("not after:   " + ca.certificate().getNotAfter().toInstant());
  }
}
