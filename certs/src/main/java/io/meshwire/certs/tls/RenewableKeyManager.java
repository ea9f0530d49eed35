package io.meshwire.certs.tls;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * {@code RenewableKeyManager} presents the latest {@link TlsCredentials} given to {@link #use}: TLS
 * stacks (the JDK's and Netty's OpenSSL one alike) ask the key manager for an alias, then for that
 * alias's key and chain, on every handshake, so a renewed certificate is presented on the next
 * handshake while connections already established keep the session they negotiated. No
 * {@code SslContext} is rebuilt and no channel or server is restarted for a renewal.
 *
 * <p>The alias names the generation of the credentials ({@code meshwire-<n>}) and the previous
 * generation stays resolvable, so a handshake that chose its alias just before a {@link #use}
 * still gets a key and a chain that belong together. Only the key and chain change; the trust
 * anchors a context was built with are the context's.
 *
 * <p>An alias is offered only for key types of the credentials' key algorithm (e.g. {@code EC},
 * or OpenSSL's {@code EC_EC}), so a stack that asks per key type never pairs an EC key with an RSA
 * cipher. Thread-safe.
 */
public final class RenewableKeyManager extends X509ExtendedKeyManager {

  private static final String PREFIX = "meshwire-";

  private record Generation(int number, TlsCredentials credentials, X509Certificate[] chain) {
    String alias() {
      return PREFIX + number;
    }
  }

  /** The generation presented now and the one before it, swapped together. */
  private record Generations(Generation current, Generation previous) {}

  private final AtomicReference<Generations> generations;

  public RenewableKeyManager(TlsCredentials initial) {
    this.generations = new AtomicReference<>(new Generations(
        new Generation(1, initial, initial.chain().toArray(X509Certificate[]::new)), null));
  }

  /** Presents {@code renewed} from the next handshake on. */
  public void use(TlsCredentials renewed) {
    X509Certificate[] chain = renewed.chain().toArray(X509Certificate[]::new);
    // One swap: a handshake that chose the alias of the generation being replaced still finds it.
    generations.updateAndGet(g -> new Generations(new Generation(g.current().number() + 1, renewed, chain),
        g.current()));
  }

  /** The credentials presented now. */
  public TlsCredentials current() {
    return generations.get().current().credentials();
  }

  private Generation byAlias(String alias) {
    Generations g = generations.get();
    if (g.current().alias().equals(alias)) {
      return g.current();
    }
    return g.previous() != null && g.previous().alias().equals(alias) ? g.previous() : null;
  }

  private String aliasFor(String keyType) {
    Generation now = generations.get().current();
    String algorithm = now.credentials().privateKey().getAlgorithm();
    return keyType != null && (keyType.equals(algorithm) || keyType.startsWith(algorithm + "_")) ? now.alias() : null;
  }

  private String aliasFor(String[] keyTypes) {
    if (keyTypes == null) {
      return null;
    }
    for (String keyType : keyTypes) {
      String alias = aliasFor(keyType);
      if (alias != null) {
        return alias;
      }
    }
    return null;
  }

  @Override
  public String[] getClientAliases(String keyType, Principal[] issuers) {
    String alias = aliasFor(keyType);
    return alias == null ? null : new String[] {alias};
  }

  @Override
  public String chooseClientAlias(String[] keyTypes, Principal[] issuers, Socket socket) {
    return aliasFor(keyTypes);
  }

  @Override
  public String chooseEngineClientAlias(String[] keyTypes, Principal[] issuers, SSLEngine engine) {
    return aliasFor(keyTypes);
  }

  @Override
  public String[] getServerAliases(String keyType, Principal[] issuers) {
    String alias = aliasFor(keyType);
    return alias == null ? null : new String[] {alias};
  }

  @Override
  public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    return aliasFor(keyType);
  }

  @Override
  public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
    return aliasFor(keyType);
  }

  @Override
  public X509Certificate[] getCertificateChain(String alias) {
    Generation g = byAlias(alias);
    return g == null ? null : g.chain().clone();
  }

  @Override
  public PrivateKey getPrivateKey(String alias) {
    Generation g = byAlias(alias);
    return g == null ? null : g.credentials().privateKey();
  }
}
