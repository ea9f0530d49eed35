package io.meshwire.certs;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import org.bouncycastle.math.ec.rfc7748.X25519;

/**
 * {@code WireGuardKeyPair} is a WireGuard (X25519) key pair as raw 32-byte arrays, with the base64
 * text form {@code wg genkey} and {@code wg pubkey} use. Generated private keys are clamped like
 * {@code wg genkey}; a loaded private key is kept as given and clamped only inside the scalar
 * multiplication, as {@code wg} does, so {@link #publicKeyBase64()} equals {@code wg pubkey}.
 *
 * <p>Immutable: arrays are copied in and out. {@link #toString()} shows only the public key.
 */
public record WireGuardKeyPair(byte[] privateKey, byte[] publicKey) {

  /** Length of WireGuard private and public keys in bytes. */
  public static final int KEY_LENGTH = 32;

  private static final SecureRandom RANDOM = new SecureRandom();

  /**
   * Copies and checks the keys.
   *
   * @throws IllegalArgumentException if a key is not 32 bytes or {@code publicKey} is not the
   *     public key of {@code privateKey}
   */
  public WireGuardKeyPair {
    privateKey = checkLength("WireGuard private key", privateKey).clone();
    publicKey = checkLength("WireGuard public key", publicKey).clone();
    if (!MessageDigest.isEqual(publicKey, derivePublic(privateKey))) {
      throw new IllegalArgumentException("WireGuard public key does not belong to the private key");
    }
  }

  /** Returns a new key pair with a clamped random private key (like {@code wg genkey}). */
  public static WireGuardKeyPair generate() {
    byte[] priv = new byte[KEY_LENGTH];
    RANDOM.nextBytes(priv);
    priv[0] &= (byte) 248;
    priv[31] &= 127;
    priv[31] |= 64;
    return new WireGuardKeyPair(priv, derivePublic(priv));
  }

  /**
   * Returns the key pair of a base64 private key (the output of {@code wg genkey}).
   *
   * @throws IllegalArgumentException if it is not base64 or not 32 bytes
   */
  public static WireGuardKeyPair fromPrivateBase64(String b64) {
    byte[] priv = decode("WireGuard private key", b64);
    return new WireGuardKeyPair(priv, derivePublic(priv));
  }

  /**
   * Decodes a base64 public key (the output of {@code wg pubkey}).
   *
   * @throws IllegalArgumentException "... must be 32 bytes, got N" or "... is not valid base64"
   */
  public static byte[] decodePublicKey(String b64) {
    return decode("WireGuard public key", b64);
  }

  /** Returns a copy of the raw private key. */
  @Override
  public byte[] privateKey() {
    return privateKey.clone();
  }

  /** Returns a copy of the raw public key. */
  @Override
  public byte[] publicKey() {
    return publicKey.clone();
  }

  /** Returns the private key in base64, as {@code wg genkey} prints it. */
  public String privateKeyBase64() {
    return Base64.getEncoder().encodeToString(privateKey);
  }

  /** Returns the public key in base64, as {@code wg pubkey} prints it. */
  public String publicKeyBase64() {
    return Base64.getEncoder().encodeToString(publicKey);
  }

  /** Key pairs are equal when their keys are (constant-time comparison). */
  @Override
  public boolean equals(Object o) {
    return o instanceof WireGuardKeyPair other
        && MessageDigest.isEqual(privateKey, other.privateKey)
        && MessageDigest.isEqual(publicKey, other.publicKey);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(publicKey);
  }

  /** Shows the public key only. */
  @Override
  public String toString() {
    return "WireGuardKeyPair[publicKey=" + publicKeyBase64() + "]";
  }

  private static byte[] derivePublic(byte[] priv) {
    byte[] pub = new byte[KEY_LENGTH];
    X25519.scalarMultBase(priv, 0, pub, 0); // clamps a copy of the scalar, like wg
    return pub;
  }

  private static byte[] decode(String what, String b64) {
    if (b64 == null) {
      throw new IllegalArgumentException(what + " is missing");
    }
    byte[] raw;
    try {
      raw = Base64.getDecoder().decode(b64.strip());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(what + " is not valid base64: " + e.getMessage(), e);
    }
    return checkLength(what, raw);
  }

  private static byte[] checkLength(String what, byte[] key) {
    if (key == null) {
      throw new IllegalArgumentException(what + " is missing");
    }
    if (key.length != KEY_LENGTH) {
      throw new IllegalArgumentException(what + " must be " + KEY_LENGTH + " bytes, got " + key.length);
    }
    return key;
  }
}
