package io.meshwire.hub.server;

import io.meshwire.certs.MeshCa;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.handler.ssl.OpenSslSessionContext;
import io.netty.handler.ssl.OpenSslSessionTicketKey;
import io.netty.handler.ssl.SslContext;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Arrays;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * {@code SessionTickets} lets agents that reconnect resume their TLS 1.3 session instead of making a
 * full handshake (no certificate signature, no chain to verify on either side; the key exchange is
 * still fresh, so forward secrecy stays). A reconnect storm after a hub restart was handshake-bound.
 *
 * <p>A ticket is only useful if the hub that receives it can decrypt it, also after a restart and on
 * another replica: the ticket keys are therefore derived from the mesh CA's private key (which
 * every hub of the mesh holds), one key per UTC day. The hub encrypts with today's key and accepts
 * tickets of the last {@link #KEPT_DAYS} days too, so a ticket stays usable for its whole
 * {@link #LIFETIME} (TLS 1.3's maximum, 7 days: an agent's connection lives for days, and the
 * ticket it holds dates from its last handshake).
 *
 * <p>Authorization does not depend on it: the hub accepts any client certificate in the handshake
 * and verifies the chain, expiry and revocation per call ({@code AuthInterceptor}); a resumed
 * session carries the certificate of the handshake it resumes.
 *
 * <p>Only with the OpenSSL provider (netty-tcnative); with the JDK provider tickets keep the JDK's
 * own per-process keys.
 */
final class SessionTickets {

  /** How long a client may resume a session: TLS 1.3's maximum ticket lifetime. */
  static final Duration LIFETIME = io.meshwire.certs.tls.HubChannels.SESSION_LIFETIME;
  /** Days of older keys accepted beside today's, so that a ticket lives its whole lifetime. */
  static final int KEPT_DAYS = 7;

  private SessionTickets() {}

  /**
   * Installs the ticket keys in {@code ssl} (when it is an OpenSSL server context), renews them every
   * hour on {@code scheduler} (a new day brings a new key), and registers the resumption counters.
   *
   * @return whether the keys were installed (false: the JDK provider)
   */
  static boolean install(SslContext ssl, MeshCa ca, InstantSource clock, ScheduledExecutorService scheduler,
      MeterRegistry meters) {
    if (!(ssl.sessionContext() instanceof OpenSslSessionContext sessions)) {
      return false;
    }
    sessions.setTicketKeys(keys(ca, clock));
    // Tickets carry the session: no server-side cache of sessions (per connection heap) is needed.
    sessions.setSessionCacheEnabled(false);
    scheduler.scheduleAtFixedRate(() -> sessions.setTicketKeys(keys(ca, clock)), 1, 1, TimeUnit.HOURS);
    // A hub started again in the same process (tests) counts for its own context, not the last one's.
    for (String name : java.util.List.of("meshwire.hub.tls.resumed", "meshwire.hub.tls.tickets.rejected")) {
      meters.find(name).meters().forEach(meters::remove);
    }
    FunctionCounter.builder("meshwire.hub.tls.resumed", sessions,
            s -> s.stats().ticketKeyResume() + s.stats().ticketKeyRenew())
        .description("TLS sessions resumed from a ticket (no full handshake)").register(meters);
    FunctionCounter.builder("meshwire.hub.tls.tickets.rejected", sessions, s -> s.stats().ticketKeyFail())
        .description("Session tickets the hub could not use (older than the kept keys, or another CA's): "
            + "those clients made a full handshake").register(meters);
    return true;
  }

  /** Today's key first (it encrypts new tickets), then the {@link #KEPT_DAYS} days before. */
  static OpenSslSessionTicketKey[] keys(MeshCa ca, InstantSource clock) {
    long today = Math.floorDiv(clock.instant().getEpochSecond(), Duration.ofDays(1).toSeconds());
    OpenSslSessionTicketKey[] keys = new OpenSslSessionTicketKey[KEPT_DAYS + 1];
    for (int i = 0; i <= KEPT_DAYS; i++) {
      byte[] secret = ca.derivedSecret("meshwire tls session ticket key, day " + (today - i),
          OpenSslSessionTicketKey.TICKET_KEY_SIZE);
      int name = OpenSslSessionTicketKey.NAME_SIZE;
      int hmac = OpenSslSessionTicketKey.HMAC_KEY_SIZE;
      keys[i] = new OpenSslSessionTicketKey(Arrays.copyOfRange(secret, 0, name),
          Arrays.copyOfRange(secret, name, name + hmac), Arrays.copyOfRange(secret, name + hmac, secret.length));
    }
    return keys;
  }
}
