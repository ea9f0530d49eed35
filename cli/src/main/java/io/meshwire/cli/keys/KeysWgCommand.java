package io.meshwire.cli.keys;

import io.meshwire.certs.AtomicFiles;
import io.meshwire.certs.CertificateStoreException;
import io.meshwire.certs.WireGuardKeyPair;
import io.meshwire.cli.Commands;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code KeysWgCommand} is {@code meshwire keys wg}: a WireGuard key pair in {@code wg genkey} /
 * {@code wg pubkey} format.
 */
@Command(
    name = "wg",
    description = {
      "Generate a WireGuard (X25519) key pair.",
      "Prints the private key line, then the public key line (as wg genkey and wg pubkey would).",
      "With --private-out, writes the private key to FILE (0600) and prints only the public key."
    })
public final class KeysWgCommand implements Runnable {

  @Spec private CommandSpec spec;

  @Option(names = "--private-out", paramLabel = "FILE",
      description = "Write the private key here (mode 0600; refuses to overwrite) instead of printing it.")
  private Path privateOut;

  @Override
  public void run() {
    WireGuardKeyPair pair = WireGuardKeyPair.generate();
    PrintWriter out = Commands.out(spec);
    if (privateOut == null) {
      out.println(pair.privateKeyBase64());
    } else {
      try {
        AtomicFiles.writeNew(privateOut, (pair.privateKeyBase64() + "\n").getBytes(StandardCharsets.US_ASCII), AtomicFiles.OWNER_ONLY);
      } catch (FileAlreadyExistsException e) {
        throw new CertificateStoreException(privateOut, "already exists; refusing to overwrite a private key");
      } catch (IOException e) {
        throw new CertificateStoreException(privateOut, "cannot write: " + e.getMessage(), e);
      }
    }
    out.println(pair.publicKeyBase64());
  }
}
