package io.meshwire.certs.tls;

import io.meshwire.certs.CertificateRejectedException;
import io.meshwire.certs.CertificateVerifier;
import io.meshwire.certs.SpiffeId;
import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.InstantSource;
import java.util.Arrays;
import java.util.List;
import java.util.function.Predicate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * {@code SpiffeTrustManager} authenticates a TLS peer by its SPIFFE ID instead of a host name: the
 * chain must verify against the mesh CA now, and the ID must satisfy {@code acceptable} (for
 * example "role is hub", or "is cluster east"). Peers are addressed by IP inside tunnels and
 * namespaces, so host names carry no meaning here. Thread-safe.
 */
public final class SpiffeTrustManager extends X509ExtendedTrustManager {

  private final CertificateVerifier verifier;
  private final List<X509Certificate> anchors;
  private final InstantSource clock;
  private final Predicate<SpiffeId> acceptable;
  private final String expectation;

  /**
   * @param expectation words for error messages, e.g. {@code "a hub certificate"}
   */
  public SpiffeTrustManager(List<X509Certificate> anchors, String mesh, InstantSource clock,
      Predicate<SpiffeId> acceptable, String expectation) {
    this.verifier = new CertificateVerifier(anchors, mesh);
    this.anchors = List.copyOf(anchors);
    this.clock = clock;
    this.acceptable = acceptable;
    this.expectation = expectation;
  }

  private void check(X509Certificate[] chain) throws CertificateException {
    if (chain == null || chain.length == 0) {
      throw new CertificateException("peer presented no certificate, expected " + expectation);
    }
    SpiffeId id;
    try {
      id = verifier.verify(Arrays.asList(chain), clock.instant());
    } catch (CertificateRejectedException e) {
      throw new CertificateException("peer certificate rejected (" + e.reason() + "): " + e.getMessage(), e);
    }
    if (!acceptable.test(id)) {
      throw new CertificateException("peer is " + id.uri() + ", expected " + expectation);
    }
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    check(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    check(chain);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
    check(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
    check(chain);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    check(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    check(chain);
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return anchors.toArray(X509Certificate[]::new);
  }
}
