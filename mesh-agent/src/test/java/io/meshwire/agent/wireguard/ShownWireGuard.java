package io.meshwire.agent.wireguard;

import io.meshwire.netaddr.Cidr;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * {@code ShownWireGuard} is a WireGuard driver for tests that only read the interface: {@link #show}
 * returns what the test supplies (or throws what it throws), changes are ignored.
 */
public final class ShownWireGuard implements WireGuard {

  private final Supplier<WgInterfaceState> shown;

  public ShownWireGuard(Supplier<WgInterfaceState> shown) {
    this.shown = shown;
  }

  @Override
  public WgInterfaceState show(String ifName) {
    return shown.get();
  }

  @Override
  public void ensureInterface(String ifName, int listenPort, String privateKey, Optional<Cidr> address) {}

  @Override
  public void setPeer(String ifName, WgPeer peer) {}

  @Override
  public void removePeer(String ifName, String publicKey) {}

  @Override
  public void deleteInterface(String ifName) {}
}
