package io.meshwire.loadtests.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.grpc.Status;
import org.junit.jupiter.api.Test;

/** Failed announce attempts and closed streams are counted by what failed, so an etcd timeout is not mistaken for a connection error. */
class AnnounceErrorKeyTest {

  @Test
  void anEtcdCallThatTimedOutIsCountedApartFromOtherEtcdFailuresAndTheReplicasBackPressure() {
    assertEquals("UNAVAILABLE (etcd timeout)", AgentFleet.announceErrorKey(Status.UNAVAILABLE.withDescription(
        "etcd has a leader and answers: writing 32 cluster record(s): no answer from etcd within 3000 ms")));
    assertEquals("UNAVAILABLE (etcd)", AgentFleet.announceErrorKey(Status.UNAVAILABLE.withDescription(
        "etcd has no quorum (1 of 3 members answer, none has a leader): writing 1 cluster record(s): timeout")));
    assertEquals("RESOURCE_EXHAUSTED (busy)", AgentFleet.announceErrorKey(Status.RESOURCE_EXHAUSTED.withDescription(
        "cluster c00042: hub replica hub-1 has 1024 announces waiting for etcd; try again")));
  }

  @Test
  void aClosedStreamIsCountedByItsInnermostCauseWithNumbersMasked() {
    Status refused = Status.UNAVAILABLE.withDescription("io exception").withCause(new RuntimeException("wrapped",
        new java.net.ConnectException("Connection refused: /127.0.0.1:44291")));
    assertEquals("UNAVAILABLE: io exception (ConnectException: Connection refused: /N.N.N.N:N)",
        AgentFleet.streamCloseKey(refused));
    assertEquals("UNAVAILABLE: Network closed for unknown reason",
        AgentFleet.streamCloseKey(Status.UNAVAILABLE.withDescription("Network closed for unknown reason")));
  }

  @Test
  void aFailureWithoutTheReplicasWordsIsOther() {
    assertEquals("UNAVAILABLE (other)", AgentFleet.announceErrorKey(Status.UNAVAILABLE.withDescription("io exception")));
    assertEquals("DEADLINE_EXCEEDED (other)", AgentFleet.announceErrorKey(Status.DEADLINE_EXCEEDED));
  }
}
