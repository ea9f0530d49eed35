package io.meshwire.netaddr;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Objects;

/**
 * {@code Translation} is a prefix-preserving mapping of one CIDR onto another of the same family
 * and size, as NETMAP does it: the network bits are replaced, the host bits kept. {@code
 * 10.244.3.7} translated from {@code 10.244.0.0/16} to {@code 10.1.0.0/16} is {@code 10.1.3.7};
 * {@link #reverse} undoes it. This is how a remapped view turns a peer's pod address into the
 * address this cluster reaches it at, and back. Immutable and thread-safe.
 *
 * @param from the original CIDR
 * @param to the CIDR {@code from} appears as
 */
public record Translation(Cidr from, Cidr to) {

  public Translation {
    Objects.requireNonNull(from, "from");
    Objects.requireNonNull(to, "to");
    if (from.isIpv4() != to.isIpv4()) {
      throw new IllegalArgumentException("translation " + from + " -> " + to + ": to: not the family of from");
    }
    if (from.prefixLength() != to.prefixLength()) {
      throw new IllegalArgumentException("translation " + from + " -> " + to
          + ": to: prefix length " + to.prefixLength() + " differs from " + from.prefixLength());
    }
  }

  /** Whether every address maps to itself. */
  public boolean isIdentity() {
    return from.equals(to);
  }

  /** The translation back from {@code to} to {@code from}. */
  public Translation inverse() {
    return new Translation(to, from);
  }

  /**
   * {@code address} of {@link #from} as it appears in {@link #to}.
   *
   * @throws IllegalArgumentException if {@code address} is not in {@code from}
   */
  public InetAddress forward(InetAddress address) {
    return move(address, from, to);
  }

  /**
   * {@code address} of {@link #to} back in {@link #from}.
   *
   * @throws IllegalArgumentException if {@code address} is not in {@code to}
   */
  public InetAddress reverse(InetAddress address) {
    return move(address, to, from);
  }

  /**
   * A prefix inside {@link #from} (for example one node's /24 of a /16 pod CIDR) as it appears in
   * {@link #to}.
   *
   * @throws IllegalArgumentException if {@code inner} is not inside {@code from}
   */
  public Cidr forward(Cidr inner) {
    if (!from.contains(inner)) {
      throw new IllegalArgumentException("prefix " + inner + ": not inside " + from);
    }
    return new Cidr(move(inner.address(), from, to).getAddress(), inner.prefixLength());
  }

  /** The host bits of {@code address} in {@code source}, on the network bits of {@code target}. */
  private static InetAddress move(InetAddress address, Cidr source, Cidr target) {
    Objects.requireNonNull(address, "address");
    if (!source.contains(address)) {
      throw new IllegalArgumentException("address " + Cidr.format(address) + ": not in " + source);
    }
    byte[] bytes = address.getAddress();
    byte[] network = target.network();
    int prefix = target.prefixLength();
    for (int i = 0; i < bytes.length; i++) {
      int networkBits = Math.max(0, Math.min(8, prefix - i * 8)); // how many leading bits of this byte are network
      int networkMask = (0xff << (8 - networkBits)) & 0xff;
      bytes[i] = (byte) ((network[i] & networkMask) | (bytes[i] & ~networkMask & 0xff));
    }
    try {
      return InetAddress.getByAddress(bytes);
    } catch (UnknownHostException e) {
      throw new AssertionError(e); // 4 or 16 bytes, as the input
    }
  }
}
