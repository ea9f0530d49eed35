package io.meshwire.agent.wireguard;

import java.util.Base64;

/** {@code WgKeys} checks and canonicalises base64 WireGuard keys. Stateless, thread-safe. */
final class WgKeys {
  private static final int KEY_BYTES = 32;

  private WgKeys() {}

  /**
   * Returns {@code key} in canonical base64 (as {@code wg} prints it).
   *
   * @param what names the key in the error, e.g. {@code peer public key}
   * @param quoteInError false for private keys, which must not appear in messages
   * @throws IllegalArgumentException if {@code key} is not base64 of 32 bytes
   */
  static String canonical(String key, String what, boolean quoteInError) {
    String shown = quoteInError ? "\"" + key + "\"" : "(redacted)";
    if (key == null) {
      throw new IllegalArgumentException(what + " is missing");
    }
    byte[] raw;
    try {
      raw = Base64.getDecoder().decode(key.strip());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(what + " " + shown + ": not base64");
    }
    if (raw.length != KEY_BYTES) {
      throw new IllegalArgumentException(
          what + " " + shown + ": " + raw.length + " bytes, a WireGuard key has " + KEY_BYTES);
    }
    return Base64.getEncoder().encodeToString(raw);
  }

  /** The first characters of a public key, enough to tell peers apart in logs. */
  static String shortKey(String publicKey) {
    return publicKey.length() <= 8 ? publicKey : publicKey.substring(0, 8) + "…";
  }
}
