package io.meshwire.cli.ca;

import io.meshwire.certs.Certificates;
import io.meshwire.certs.MeshCa;
import io.meshwire.certs.Pem;
import io.meshwire.cli.Commands;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code CaShowCommand} is {@code meshwire ca show}: describes the CA certificate (needs no key). */
@Command(name = "show", description = "Describe the mesh CA certificate in <dir>/ca.crt.")
public final class CaShowCommand implements Runnable {

  @Spec private CommandSpec spec;

  @Option(names = "--dir", required = true, paramLabel = "DIR", description = "Directory holding ca.crt.")
  private Path dir;

  @Override
  public void run() {
    Path file = dir.resolve(MeshCa.CERT_FILE);
    X509Certificate cert = Pem.readCertificate(file);
    String mesh;
    try {
      mesh = MeshCa.meshOf(cert);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
    PrintWriter out = Commands.out(spec);
    out.println("mesh:         " + mesh);
    out.println("trust domain: spiffe://" + mesh);
    out.println("subject:      " + cert.getSubjectX500Principal().getName());
    out.println("serial:       " + cert.getSerialNumber().toString(16));
    out.println("key:          " + describeKey(cert));
    out.println("path length:  " + cert.getBasicConstraints());
    out.println("fingerprint:  SHA256 " + Certificates.sha256Fingerprint(cert));
    out.println("not before:   " + cert.getNotBefore().toInstant());
    out.println("not after:    " + cert.getNotAfter().toInstant());
  }

  private static String describeKey(X509Certificate cert) {
    if (cert.getPublicKey() instanceof ECPublicKey ec) {
      return "EC " + ec.getParams().getCurve().getField().getFieldSize() + "-bit (" + cert.getSigAlgName() + ")";
    }
    return cert.getPublicKey().getAlgorithm() + " (" + cert.getSigAlgName() + ")";
  }
}
