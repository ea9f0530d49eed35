package io.meshwire.certs;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;

/**
 * {@code Pem} reads and writes certificates and private keys in PEM. Certificates are written as
 * {@code CERTIFICATE} blocks (leaf first for chains), private keys as unencrypted PKCS#8 {@code
 * PRIVATE KEY} (what Netty and OpenSSL expect); reading also accepts SEC1 {@code EC PRIVATE KEY}.
 *
 * <p>Every failure is a {@link PemException} whose message starts with the file (or the {@code
 * source} given for strings) and says what is wrong. Writes go through {@link AtomicFiles}:
 * certificates 0644, keys 0600. Stateless and thread-safe.
 *
 * <p>Plain PEM as meshwire writes it (only {@code CERTIFICATE} blocks, or one PKCS#8 EC {@code
 * PRIVATE KEY}) is read with the JDK alone; anything else, and every error, goes through Bouncy
 * Castle's parser. Reading one certificate through it loads about 150 of its classes, which every
 * agent start paid for reading its CA certificate (the agent's footprint, load-tests/README.md).
 */
public final class Pem {

  private Pem() {}

  // ---- files -------------------------------------------------------------------------------

  /** Reads all certificates in {@code file}; at least one is required. */
  public static List<X509Certificate> readCertificates(Path file) {
    return readCertificates(readText(file), file.toString());
  }

  /** Reads the single certificate in {@code file}. */
  public static X509Certificate readCertificate(Path file) {
    return single(readCertificates(file), file.toString());
  }

  /** Reads the single private key in {@code file}. */
  public static PrivateKey readPrivateKey(Path file) {
    return readPrivateKey(readText(file), file.toString());
  }

  /** Writes {@code certificates} to {@code file} (mode 0644), replacing it atomically. */
  public static void writeCertificates(Path file, List<X509Certificate> certificates) {
    write(file, encodeCertificates(certificates), AtomicFiles.WORLD_READABLE);
  }

  /** Writes {@code key} as PKCS#8 to {@code file} (mode 0600), replacing it atomically. */
  public static void writePrivateKey(Path file, PrivateKey key) {
    write(file, encodePrivateKey(key), AtomicFiles.OWNER_ONLY);
  }

  // ---- strings -----------------------------------------------------------------------------

  /**
   * Parses all certificates in {@code pem}; {@code source} names where it came from in errors.
   *
   * @throws PemException if there is no {@code CERTIFICATE} block, a block of another type, or a
   *     block that does not decode
   */
  public static List<X509Certificate> readCertificates(String pem, String source) {
    Optional<List<byte[]>> plain = plainBlocks(pem, "CERTIFICATE");
    if (plain.isPresent()) {
      try {
        List<X509Certificate> certs = new ArrayList<>();
        for (byte[] der : plain.get()) {
          certs.add(toX509(der, source));
        }
        return List.copyOf(certs);
      } catch (PemException e) {
        // Bouncy Castle's parser below says what is wrong, as for any other malformed input.
      }
    }
    List<X509Certificate> out = new ArrayList<>();
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      Object obj;
      while ((obj = parser.readObject()) != null) {
        if (!(obj instanceof X509CertificateHolder holder)) {
          throw new PemException(
              source, "expected only CERTIFICATE blocks, found " + describe(obj) + " (block " + (out.size() + 1) + ")");
        }
        out.add(toX509(holder.getEncoded(), source));
      }
    } catch (IOException | RuntimeException e) {
      if (e instanceof PemException pe) {
        throw pe;
      }
      throw new PemException(source, "malformed PEM: " + oneLine(e), e);
    }
    if (out.isEmpty()) {
      throw new PemException(source, "no CERTIFICATE block found (is it PEM?)");
    }
    return List.copyOf(out);
  }

  /**
   * Parses the single unencrypted private key in {@code pem} (PKCS#8 or SEC1).
   *
   * @throws PemException if there is no key, more than one block, an encrypted key, or a key that
   *     does not decode
   */
  public static PrivateKey readPrivateKey(String pem, String source) {
    Optional<List<byte[]>> plain = plainBlocks(pem, "PRIVATE KEY");
    if (plain.isPresent() && plain.get().size() == 1) {
      try {
        return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(plain.get().get(0)));
      } catch (GeneralSecurityException e) {
        // Not an EC key, or not one at all: Bouncy Castle's converter below tells which.
      }
    }
    List<PrivateKey> keys = new ArrayList<>();
    JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      Object obj;
      while ((obj = parser.readObject()) != null) {
        if (obj instanceof PrivateKeyInfo info) {
          keys.add(converter.getPrivateKey(info));
        } else if (obj instanceof PEMKeyPair pair) {
          keys.add(converter.getKeyPair(pair).getPrivate());
        } else if (obj instanceof PEMEncryptedKeyPair || obj instanceof PKCS8EncryptedPrivateKeyInfo) {
          throw new PemException(source, "encrypted private keys are not supported; store it unencrypted with mode 0600");
        } else {
          throw new PemException(source, "expected one PRIVATE KEY block, found " + describe(obj));
        }
      }
    } catch (IOException | RuntimeException e) {
      if (e instanceof PemException pe) {
        throw pe;
      }
      throw new PemException(source, "malformed private key: " + oneLine(e), e);
    }
    if (keys.isEmpty()) {
      throw new PemException(source, "no PRIVATE KEY block found (is it PEM?)");
    }
    if (keys.size() > 1) {
      throw new PemException(source, "expected one private key, found " + keys.size());
    }
    return keys.get(0);
  }

  /** Returns {@code certificates} as concatenated {@code CERTIFICATE} blocks. */
  public static String encodeCertificates(List<X509Certificate> certificates) {
    if (certificates.isEmpty()) {
      throw new IllegalArgumentException("certificates: at least one is required");
    }
    List<PemObject> blocks = new ArrayList<>();
    for (X509Certificate cert : certificates) {
      try {
        blocks.add(new PemObject("CERTIFICATE", cert.getEncoded()));
      } catch (CertificateEncodingException e) {
        throw new IllegalArgumentException("certificate " + cert.getSubjectX500Principal() + ": cannot encode", e);
      }
    }
    return encode(blocks);
  }

  /** Returns {@code key} as an unencrypted PKCS#8 {@code PRIVATE KEY} block. */
  public static String encodePrivateKey(PrivateKey key) {
    byte[] der = key.getEncoded();
    if (der == null || !"PKCS#8".equals(key.getFormat())) {
      throw new IllegalArgumentException("private key: " + key.getAlgorithm() + " key has no PKCS#8 encoding");
    }
    return encode(List.of(new PemObject("PRIVATE KEY", der)));
  }

  /**
   * Decodes one DER certificate (e.g. from a protobuf field); {@code source} names it in errors.
   *
   * @throws PemException if the bytes are not an X.509 certificate
   */
  public static X509Certificate certificateFromDer(byte[] der, String source) {
    return toX509(der, source);
  }

  // ---- helpers -----------------------------------------------------------------------------

  private static X509Certificate toX509(byte[] der, String source) {
    try {
      CertificateFactory cf = CertificateFactory.getInstance("X.509");
      return (X509Certificate) cf.generateCertificate(new java.io.ByteArrayInputStream(der));
    } catch (CertificateException | RuntimeException e) {
      throw new PemException(source, "not a valid X.509 certificate: " + oneLine(e), e);
    }
  }

  /**
   * The DER contents of {@code pem} when it is nothing but {@code type} blocks of plain base64
   * (white space between blocks allowed, no headers, no other text); empty otherwise.
   */
  static Optional<List<byte[]>> plainBlocks(String pem, String type) {
    String begin = "-----BEGIN " + type + "-----";
    String end = "-----END " + type + "-----";
    List<byte[]> blocks = new ArrayList<>();
    StringBuilder body = null;
    for (String raw : pem.split("\n", -1)) {
      String line = raw.strip();
      if (body == null) {
        if (line.equals(begin)) {
          body = new StringBuilder();
        } else if (!line.isEmpty()) {
          return Optional.empty();
        }
      } else if (line.equals(end)) {
        try {
          blocks.add(Base64.getDecoder().decode(body.toString()));
        } catch (IllegalArgumentException e) {
          return Optional.empty();
        }
        body = null;
      } else if (line.indexOf(':') >= 0 || line.startsWith("-----")) {
        return Optional.empty(); // a header (Proc-Type: encrypted) or another block inside this one
      } else {
        body.append(line);
      }
    }
    return body == null && !blocks.isEmpty() ? Optional.of(blocks) : Optional.empty();
  }

  private static X509Certificate single(List<X509Certificate> certs, String source) {
    if (certs.size() != 1) {
      throw new PemException(source, "expected exactly one certificate, found " + certs.size());
    }
    return certs.get(0);
  }

  private static String readText(Path file) {
    try {
      return Files.readString(file, StandardCharsets.US_ASCII);
    } catch (NoSuchFileException e) {
      throw new PemException(file.toString(), "no such file", e);
    } catch (AccessDeniedException e) {
      throw new PemException(file.toString(), "permission denied", e);
    } catch (java.nio.charset.CharacterCodingException e) {
      throw new PemException(file.toString(), "not PEM text (binary content; DER is not accepted)", e);
    } catch (IOException e) {
      throw new PemException(file.toString(), "cannot read: " + oneLine(e), e);
    }
  }

  private static void write(Path file, String text, java.util.Set<java.nio.file.attribute.PosixFilePermission> mode) {
    try {
      AtomicFiles.write(file, text.getBytes(StandardCharsets.US_ASCII), mode);
    } catch (IOException e) {
      throw new CertificateStoreException(file, "cannot write: " + oneLine(e), e);
    }
  }

  private static String encode(List<PemObject> blocks) {
    StringWriter out = new StringWriter();
    try (PemWriter writer = new PemWriter(out)) {
      for (PemObject block : blocks) {
        writer.writeObject(block);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a StringWriter does not fail
    }
    return out.toString();
  }

  private static String describe(Object obj) {
    return switch (obj) {
      case PrivateKeyInfo p -> "a PRIVATE KEY";
      case PEMKeyPair p -> "an EC/RSA PRIVATE KEY";
      case X509CertificateHolder h -> "a CERTIFICATE";
      default -> "a " + obj.getClass().getSimpleName() + " block";
    };
  }

  static String oneLine(Throwable e) {
    String msg = e.getMessage();
    if (msg == null || msg.isBlank()) {
      msg = e.getClass().getSimpleName();
    }
    return msg.replaceAll("[\\r\\n]+", " ").strip();
  }
}
