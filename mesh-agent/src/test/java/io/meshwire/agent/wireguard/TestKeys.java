package io.meshwire.agent.wireguard;

import java.util.Arrays;
import java.util.Base64;

/** Distinct, well-formed WireGuard keys for unit tests. */
final class TestKeys {
  private TestKeys() {}

  /** A base64 key of 32 bytes all equal to {@code n}. */
  static String key(int n) {
    byte[] raw = new byte[32];
    Arrays.fill(raw, (byte) n);
    return Base64.getEncoder().encodeToString(raw);
  }
}
