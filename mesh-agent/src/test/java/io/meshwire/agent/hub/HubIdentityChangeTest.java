package io.meshwire.agent.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.meshwire.agent.state.AgentState;
import io.meshwire.agent.state.StateFile;
import io.meshwire.agent.state.TestStates;
import io.meshwire.agent.sync.MeshSync;
import io.meshwire.netaddr.Backoff;
import io.meshwire.certs.CertificateRejectedException;
import io.meshwire.certs.CertificateRejectedException.Reason;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A hub whose certificate is not of the agent's mesh (it lost its data and made a new CA): the
 * session is held and its state says what changed and what to do, instead of "io exception"; a
 * plain outage is not held. (The real TLS failure is in cli's AgentRejoinCommandTest.)
 */
class HubIdentityChangeTest {

  private static final InstantSource CLOCK = InstantSource.system();

  @TempDir Path dir;

  /** Runs the session loop over {@code failures}, one per attempt, then stops it. */
  private HubSession runThrough(List<RuntimeException> failures) {
    MeshSync sync = new MeshSync("east", AgentState.initial(TestStates.key(0x77)),
        new StateFile(dir.resolve("state.bin"), CLOCK), false, s -> { });
    List<RuntimeException> left = new ArrayList<>(failures);
    HubSession[] session = new HubSession[1];
    HubSession.Connector connector = new HubSession.Connector() {
      @Override
      public HubConnection connect() {
        throw left.removeFirst();
      }

      @Override
      public void renewIfDue(HubConnection hub) {}

      @Override
      public Optional<HubConnection> current() {
        return Optional.empty();
      }

      @Override
      public void reset() {}
    };
    session[0] = new HubSession(connector, sync, s -> null, () -> { },
        new Backoff(Duration.ZERO, Duration.ZERO, new Random(1)), HubSession.newBreaker(), delay -> {
          if (left.isEmpty()) {
            session[0].close();
          }
        }, CLOCK);
    session[0].run();
    return session[0];
  }

  private static RuntimeException tlsRefused(Reason reason) {
    CertificateException handshake = new CertificateException("peer certificate rejected (" + reason + ")",
        new CertificateRejectedException(reason, "certificate spiffe://test.mesh/hub/hub-0 is not signed by a trusted CA"));
    return Status.UNAVAILABLE.withDescription("io exception").withCause(handshake).asRuntimeException();
  }

  @Test
  void aHubOfAnotherCaHoldsTheSessionAndSaysWhatChanged() {
    HubSession session = runThrough(List.of(tlsRefused(Reason.UNKNOWN_CA), tlsRefused(Reason.UNKNOWN_CA)));

    HubState state = session.state();
    assertEquals(HubState.Condition.REFUSED, state.condition());
    assertTrue(state.detail().startsWith("the hub's certificate is not of this agent's mesh (UNKNOWN_CA): if the hub"
        + " lost its data, re-enroll with 'meshwire agent rejoin'; "), state.detail());
  }

  @Test
  void anOutageOrAnExpiredHubCertificateIsNoIdentityChange() {
    assertEquals(Optional.empty(), HubErrors.hubIdentityChanged(tlsRefused(Reason.EXPIRED)));
    HubSession session = runThrough(List.of(Status.UNAVAILABLE.withDescription("io exception").asRuntimeException()));

    assertEquals(HubState.Condition.UNREACHABLE, session.state().condition());
  }
}
