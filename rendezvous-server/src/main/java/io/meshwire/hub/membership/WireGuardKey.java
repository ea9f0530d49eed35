package io.meshwire.hub.membership;

import java.util.Arrays;
import java.util.Base64;

/** {@code WireGuardKey} is a 32-byte X25519 public key. Immutable. */
public record WireGuardKey(byte[] bytes) {

  public static final int LENGTH = 32;

  public WireGuardKey {
    if (bytes.length != LENGTH) {
      throw new IllegalArgumentException("must be " + LENGTH + " bytes, got " + bytes.length);
    }
    bytes = bytes.clone();
  }

  @Override
  public byte[] bytes() {
    return bytes.clone();
  }

  public String base64() {
    return Base64.getEncoder().encodeToString(bytes);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof WireGuardKey k && Arrays.equals(k.bytes, bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  @Override
  public String toString() {
    return base64();
  }
}
