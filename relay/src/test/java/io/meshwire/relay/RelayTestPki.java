package io.meshwire.relay;

import io.meshwire.certs.IssuedCredential;
import io.meshwire.certs.MeshCa;
import io.meshwire.certs.Role;
import io.meshwire.certs.SpiffeId;
import io.meshwire.certs.tls.RenewableKeyManager;
import io.meshwire.certs.tls.TlsCredentials;
import java.time.Duration;
import java.time.InstantSource;

/** A test mesh CA issuing relay (hub-role) and cluster credentials. */
final class RelayTestPki {

  final MeshCa ca = MeshCa.create("test", Duration.ofDays(30), InstantSource.system());

  RenewableKeyManager keys(Role role, String name) {
    IssuedCredential issued = ca.issue(new SpiffeId("test", role, name), Duration.ofDays(1));
    return new RenewableKeyManager(TlsCredentials.of(issued));
  }

  RenewableKeyManager cluster(String name) {
    return keys(Role.CLUSTER, name);
  }

  RenewableKeyManager relay(String name) {
    return keys(Role.HUB, name);
  }
}
