package io.meshwire.cli.ca;

import io.meshwire.certs.CertificateStoreException;
import io.meshwire.certs.IssuedCredential;
import io.meshwire.certs.MeshCa;
import io.meshwire.certs.Role;
import io.meshwire.certs.SpiffeId;
import io.meshwire.cli.Commands;
import io.meshwire.cli.DurationConverter;
import io.meshwire.cli.Main;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code CaIssueCommand} is {@code meshwire ca issue}: the air-gapped path, making a key pair and a
 * certificate for one identity with the CA's key. Refuses to overwrite existing files.
 */
@Command(
    name = "issue",
    description = {
      "Issue a key and certificate offline (air-gapped enrollment).",
      "Writes <out>/<role>-<name>.key (0600), <out>/<role>-<name>.crt and, if absent, <out>/ca.crt.",
      "Refuses to overwrite an existing key or certificate."
    })
public final class CaIssueCommand implements Runnable {

  @Spec private CommandSpec spec;

  @Option(names = "--dir", required = true, paramLabel = "DIR", description = "CA directory (ca.crt, ca.key).")
  private Path dir;

  @Option(names = "--role", required = true, paramLabel = "ROLE", converter = RoleConverter.class,
      completionCandidates = RoleConverter.Candidates.class,
      description = "cluster, hub or admin.")
  private Role role;

  @Option(names = "--name", required = true, paramLabel = "NAME",
      description = "Cluster ID, hub or admin name (a DNS label).")
  private String name;

  @Option(names = "--validity", paramLabel = "DURATION", defaultValue = "90d", converter = DurationConverter.class,
      description = "How long the certificate is valid, at most 398d (default: ${DEFAULT-VALUE}).")
  private Duration validity;

  @Option(names = "--out", paramLabel = "DIR", description = "Where to write the files (default: the CA directory).")
  private Path out;

  @Override
  public void run() {
    MeshCa ca = MeshCa.load(dir, Main.of(spec).clock());
    SpiffeId id;
    try {
      id = new SpiffeId(ca.mesh(), role, name);
    } catch (IllegalArgumentException e) {
      throw Commands.badValue(spec, "--name", e.getMessage());
    }
    if (validity.compareTo(MeshCa.MAX_LEAF_VALIDITY) > 0) {
      throw Commands.badValue(spec, "--validity",
          DurationConverter.format(validity) + " exceeds the maximum of " + DurationConverter.format(MeshCa.MAX_LEAF_VALIDITY));
    }
    Path target = out == null ? dir : out;
    String base = role.pathSegment() + "-" + name;
    for (Path f : List.of(target.resolve(base + ".key"), target.resolve(base + ".crt"))) {
      if (Files.exists(f, LinkOption.NOFOLLOW_LINKS)) {
        throw new CertificateStoreException(f, "already exists; remove it or choose another --out");
      }
    }
    IssuedCredential credential = ca.issue(id, validity);
    credential.writeTo(target, base);
    PrintWriter w = Commands.out(spec);
    w.println("issued " + id);
    w.println("certificate: " + target.resolve(base + ".crt"));
    w.println("private key: " + target.resolve(base + ".key"));
    w.println("not after:   " + credential.certificate().getNotAfter().toInstant());
  }
}
