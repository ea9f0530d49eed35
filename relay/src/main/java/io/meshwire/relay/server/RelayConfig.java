package io.meshwire.relay.server;

import io.meshwire.netaddr.HostPort;
import io.meshwire.relay.wire.RelayFrames;
import java.time.Duration;

/**
 * {@code RelayConfig} is one relay's settings, checked at construction with messages that name the
 * setting.
 *
 * @param listen where clients connect (TLS on TCP; 443 in production)
 * @param maxDatagram largest datagram a client may send; a larger frame disconnects it
 * @param socketBuffer SO_SNDBUF / SO_RCVBUF of every connection, or 0 (the default) for the kernel's
 *     TCP autotuning, which grows the buffers with the path (up to net.ipv4.tcp_rmem / tcp_wmem's
 *     maximum) and is not capped by net.core.rmem_max (208 KiB by default: a fixed buffer asked of
 *     an untuned kernel gets that, and caps a relayed path far below a direct one)
 * @param highWater bytes queued for a destination beyond which its datagrams are dropped
 *     (counted as {@code congested}) until it drains below half of it, as a UDP path would
 * @param revocationSweep how often live connections are checked against revocations (a revoked
 *     cluster's connection is closed within this plus the time to close)
 * @param threads event loop threads
 */
public record RelayConfig(HostPort listen, int maxDatagram, int socketBuffer, int highWater,
    Duration revocationSweep, int threads) {

  /** Kernel autotuning (see {@code socketBuffer}). */
  public static final int DEFAULT_SOCKET_BUFFER = 0;
  /** 1 MiB: 8 ms at 1 Gbit/s; more only delays WireGuard's own congestion control. */
  public static final int DEFAULT_HIGH_WATER = 1 << 20;

  public RelayConfig {
    if (maxDatagram < 1 || maxDatagram > RelayFrames.MAX_DATAGRAM) {
      throw new IllegalArgumentException("relay max-datagram " + maxDatagram + ": must be 1.." + RelayFrames.MAX_DATAGRAM);
    }
    if (socketBuffer != 0 && socketBuffer < 64 << 10) {
      throw new IllegalArgumentException("relay socket-buffer " + socketBuffer + ": 0 (autotuning) or at least 65536 bytes");
    }
    if (highWater < 64 << 10) {
      throw new IllegalArgumentException("relay high-water " + highWater + ": at least 65536 bytes");
    }
    if (revocationSweep.isNegative() || revocationSweep.isZero() || revocationSweep.compareTo(Duration.ofSeconds(1)) > 0) {
      throw new IllegalArgumentException("relay revocation-sweep " + revocationSweep
          + ": between 1 ms and 1 s (revoked clusters must be cut within 2 s)");
    }
    if (threads < 1 || threads > 64) {
      throw new IllegalArgumentException("relay threads " + threads + ": must be 1..64");
    }
  }

  /** Defaults for {@code listen}: autotuned buffers, 1 MiB high water, 500 ms sweep, 2 threads. */
  public static RelayConfig defaults(HostPort listen) {
    return new RelayConfig(listen, RelayFrames.MAX_DATAGRAM, DEFAULT_SOCKET_BUFFER, DEFAULT_HIGH_WATER,
        Duration.ofMillis(500), 2);
  }
}
