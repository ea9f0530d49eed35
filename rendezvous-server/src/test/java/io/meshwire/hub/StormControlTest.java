package io.meshwire.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.RetryInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.meshwire.certs.tls.TlsCredentials;
import io.meshwire.proto.rendezvous.v1.AnnounceRequest;
import io.meshwire.proto.rendezvous.v1.RendezvousGrpc;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Back-off hints: a rate-limited caller learns how long to wait from google.rpc.RetryInfo. */
class StormControlTest {

  @TempDir Path data;

  @Test
  void announceBeyondTheRateIsResourceExhaustedWithARetryDelay() throws Exception {
    try (HubFixture hub = new HubFixture(data, Map.of("announce-rate", "3/10s"))) {
      TlsCredentials east = hub.enroll("east");
      var stub = RendezvousGrpc.newBlockingStub(hub.channel(east));
      for (int g = 1; g <= 3; g++) {
        stub.announce(AnnounceRequest.newBuilder().setRecord(HubFixture.record("east", 1, g)).build());
      }
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> stub.announce(
          AnnounceRequest.newBuilder().setRecord(HubFixture.record("east", 1, 4)).build()));
      assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
      RetryInfo retry = StatusProto.fromThrowable(e).getDetailsList().stream()
          .filter(d -> d.is(RetryInfo.class)).findFirst().orElseThrow().unpack(RetryInfo.class);
      assertEquals(10, retry.getRetryDelay().getSeconds());
      assertTrue(e.getStatus().getDescription().contains("rate limited"));
    }
  }
}
