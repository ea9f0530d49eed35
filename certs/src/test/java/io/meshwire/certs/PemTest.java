package io.meshwire.certs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PemTest {

  @TempDir Path dir;
  private final MeshCa ca = MeshCa.create("demo", Duration.ofDays(10), new FakeClock());
  private final IssuedCredential cred = ca.issue(new SpiffeId("demo", Role.HUB, "hub"), Duration.ofDays(1));

  @Test
  void roundTripsCertificateChainAndPrivateKey() {
    Path certs = dir.resolve("chain.crt");
    Path key = dir.resolve("hub.key");
    Pem.writeCertificates(certs, List.of(cred.certificate(), ca.certificate()));
    Pem.writePrivateKey(key, cred.privateKey());
    assertEquals(List.of(cred.certificate(), ca.certificate()), Pem.readCertificates(certs));
    assertEquals(cred.privateKey(), Pem.readPrivateKey(key));
    assertTrue(Pem.encodePrivateKey(cred.privateKey()).startsWith("-----BEGIN PRIVATE KEY-----\n"));
  }

  @Test
  void writesPrivateKeyOwnerOnlyAndCertificatesWorldReadable() throws Exception {
    Pem.writePrivateKey(dir.resolve("k"), cred.privateKey());
    Pem.writeCertificates(dir.resolve("c"), List.of(cred.certificate()));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("k"))));
    assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("c"))));
  }

  @Test
  void garbageCertificateFileErrorNamesTheFile() throws Exception {
    Path file = dir.resolve("garbage.crt");
    Files.writeString(file, "hello, I am not a certificate\n");
    PemException e = assertThrows(PemException.class, () -> Pem.readCertificates(file));
    assertEquals(file + ": no CERTIFICATE block found (is it PEM?)", e.getMessage());
  }

  @Test
  void corruptBase64InsideABlockNamesTheFile() throws Exception {
    Path file = dir.resolve("corrupt.crt");
    Files.writeString(file, "-----BEGIN CERTIFICATE-----\nMIIB!!!!notbase64\n-----END CERTIFICATE-----\n");
    PemException e = assertThrows(PemException.class, () -> Pem.readCertificates(file));
    assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
  }

  @Test
  void validPemOfAnInvalidCertificateNamesTheFile() throws Exception {
    Path file = dir.resolve("bogus.crt");
    Files.writeString(file, "-----BEGIN CERTIFICATE-----\nAAECAwQF\n-----END CERTIFICATE-----\n");
    PemException e = assertThrows(PemException.class, () -> Pem.readCertificates(file));
    assertTrue(e.getMessage().startsWith(file + ": malformed PEM"), e.getMessage());
  }

  @Test
  void binaryFileErrorNamesTheFile() throws Exception {
    Path file = dir.resolve("cert.der");
    Files.write(file, cred.certificate().getEncoded());
    PemException e = assertThrows(PemException.class, () -> Pem.readCertificates(file));
    assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
  }

  @Test
  void missingAndEmptyFilesAreNamed() throws Exception {
    Path missing = dir.resolve("missing.key");
    assertEquals(missing + ": no such file", assertThrows(PemException.class, () -> Pem.readPrivateKey(missing)).getMessage());
    Path empty = Files.createFile(dir.resolve("empty.key"));
    assertEquals(empty + ": no PRIVATE KEY block found (is it PEM?)",
        assertThrows(PemException.class, () -> Pem.readPrivateKey(empty)).getMessage());
  }

  @Test
  void certificateFileHoldingAKeyNamesWhatItFound() throws Exception {
    Path file = dir.resolve("swapped.crt");
    Pem.writePrivateKey(file, cred.privateKey());
    PemException e = assertThrows(PemException.class, () -> Pem.readCertificates(file));
    assertEquals(file + ": expected only CERTIFICATE blocks, found a PRIVATE KEY (block 1)", e.getMessage());
  }

  @Test
  void readsSec1EcKeyWrittenByOpenssl() throws Exception {
    Processes.assumeInstalled("openssl");
    Path file = dir.resolve("openssl.key");
    var r = Processes.run(null, "openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", file.toString());
    assertEquals(0, r.exitCode(), r.stderr());
    assertTrue(Files.readString(file).startsWith("-----BEGIN EC PRIVATE KEY-----"));
    PrivateKey key = Pem.readPrivateKey(file);
    assertEquals("EC", key.getAlgorithm());
  }

  @Test
  void rejectsEncryptedKeyNamingTheFile() throws Exception {
    Processes.assumeInstalled("openssl");
    Path file = dir.resolve("encrypted.key");
    var r = Processes.run(null, "openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-aes256", "-pass", "pass:secret", "-out", file.toString());
    assertEquals(0, r.exitCode(), r.stderr());
    PemException e = assertThrows(PemException.class, () -> Pem.readPrivateKey(file));
    assertTrue(e.getMessage().startsWith(file + ": encrypted private keys are not supported"), e.getMessage());
  }

  @Test
  void plainPemAsMeshwireWritesItGoesToTheJdksReader() {
    String chain = Pem.encodeCertificates(List.of(cred.certificate(), ca.certificate()));

    assertEquals(2, Pem.plainBlocks(chain, "CERTIFICATE").orElseThrow().size());
    assertEquals(1, Pem.plainBlocks(Pem.encodePrivateKey(cred.privateKey()), "PRIVATE KEY").orElseThrow().size());
    assertEquals(1, Pem.plainBlocks(chain.replace("\n", "\r\n").split("(?<=-----END CERTIFICATE-----\r\n)")[0],
        "CERTIFICATE").orElseThrow().size(), "CRLF line ends");
  }

  @Test
  void anythingButPlainBlocksIsLeftToBouncyCastlesParser() {
    String cert = Pem.encodeCertificates(List.of(cred.certificate()));

    assertTrue(Pem.plainBlocks("Bag Attributes\n" + cert, "CERTIFICATE").isEmpty(), "text outside the blocks");
    assertTrue(Pem.plainBlocks(cert.replace("-----\n", "-----\nProc-Type: 4,ENCRYPTED\n"), "CERTIFICATE").isEmpty(),
        "a header");
    assertTrue(Pem.plainBlocks(cert, "PRIVATE KEY").isEmpty(), "another block type");
    assertTrue(Pem.plainBlocks(cert.replace("-----END CERTIFICATE-----\n", ""), "CERTIFICATE").isEmpty(), "no end");
    assertTrue(Pem.plainBlocks("-----BEGIN CERTIFICATE-----\nMIIB!!!!\n-----END CERTIFICATE-----\n", "CERTIFICATE")
        .isEmpty(), "not base64");
    assertTrue(Pem.plainBlocks("\n", "CERTIFICATE").isEmpty(), "no block");
  }

  @Test
  void certificatesWithTextAroundThemStillRead() throws Exception {
    Path file = dir.resolve("openssl-export.crt");
    Files.writeString(file, "Bag Attributes\n    friendlyName: hub\n" + Pem.encodeCertificates(List.of(cred.certificate())));

    assertEquals(List.of(cred.certificate()), Pem.readCertificates(file));
  }
}
