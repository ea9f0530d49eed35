package io.meshwire.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.meshwire.certs.Csrs;
import io.meshwire.certs.Role;
import io.meshwire.certs.SpiffeId;
import io.meshwire.proto.enrollment.v1.EnrollRequest;
import io.meshwire.proto.enrollment.v1.EnrollmentGrpc;
import io.meshwire.proto.enrollment.v1.IssuedCertificate;
import java.nio.file.Path;
import java.security.KeyPair;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The enrollment sequence of the hub's own {@code EnrollmentService}: a CSR the policy rejects is
 * refused with its field and reason, burns no token and issues nothing; the same token then enrolls
 * a good CSR, once.
 */
class EnrollmentRejectionTest {

  @TempDir Path dir;

  @Test
  void aRejectedCsrLeavesTheTokenUnusedAndTheTokenEnrollsOnceAfterwards() throws Exception {
    try (HubFixture hub = new HubFixture(dir)) {
      String token = hub.createToken("east");
      EnrollmentGrpc.EnrollmentBlockingStub enrollment = EnrollmentGrpc.newBlockingStub(hub.channel(null));
      KeyPair keys = Csrs.newKeyPair();

      StatusRuntimeException otherCluster = assertThrows(StatusRuntimeException.class, () -> enrollment.enroll(
          request(token, Csrs.create(keys, new SpiffeId(hub.ca().mesh(), Role.CLUSTER, "west")))));
      assertEquals(Status.Code.INVALID_ARGUMENT, otherCluster.getStatus().getCode());
      assertTrue(otherCluster.getStatus().getDescription().startsWith("csr_der: "), otherCluster.getMessage());

      StatusRuntimeException garbage = assertThrows(StatusRuntimeException.class,
          () -> enrollment.enroll(request(token, new byte[] {1, 2, 3})));
      assertEquals(Status.Code.INVALID_ARGUMENT, garbage.getStatus().getCode());

      IssuedCertificate issued = enrollment.enroll(
          request(token, Csrs.create(keys, new SpiffeId(hub.ca().mesh(), Role.CLUSTER, "east")))).getCertificate();
      assertEquals("spiffe://" + hub.ca().mesh() + "/cluster/east", issued.getSpiffeId());

      StatusRuntimeException again = assertThrows(StatusRuntimeException.class, () -> enrollment.enroll(
          request(token, Csrs.create(keys, new SpiffeId(hub.ca().mesh(), Role.CLUSTER, "east")))));
      assertEquals(Status.Code.UNAUTHENTICATED, again.getStatus().getCode(), "a token enrolls once");
    }
  }

  private static EnrollRequest request(String token, byte[] csr) {
    return EnrollRequest.newBuilder().setJoinToken(token).setCsrDer(ByteString.copyFrom(csr)).build();
  }
}
