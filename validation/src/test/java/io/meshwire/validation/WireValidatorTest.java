package io.meshwire.validation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.meshwire.netaddr.AddressPolicy;
import io.meshwire.netaddr.Cidr;
import io.meshwire.proto.rendezvous.v1.CidrMapping;
import io.meshwire.proto.rendezvous.v1.ClusterRecord;
import io.meshwire.proto.rendezvous.v1.PeerView;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class WireValidatorTest {

  private static final WireValidator VALIDATOR = WireValidator.defaults();

  private static ClusterRecord.Builder east() {
    return ClusterRecord.newBuilder().setClusterId("east").setWireguardPublicKey(ByteString.copyFrom(new byte[32]))
        .setWireguardListenPort(51820).addGatewayEndpoints("198.18.0.1:51820").addPodCidrs("10.1.0.0/16")
        .addServiceCidrs("fd00:1::/108").setGeneration(1);
  }

  @Test
  void validRecordIsCheckedIntoCanonicalParts() throws InvalidField {
    WireValidator.CheckedRecord c = VALIDATOR.clusterRecord("record", east().build());
    assertEquals("east", c.clusterId());
    assertEquals(List.of(Cidr.parse("10.1.0.0/16")), c.podCidrs());
    assertEquals(List.of(Cidr.parse("fd00:1::/108")), c.serviceCidrs());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
    "pod | ::ffff:10.0.0.0/112 | record.pod_cidrs[0]",
    "pod | 0.0.0.0/0 | record.pod_cidrs[0]",
    "service | 169.254.0.0/16 | record.service_cidrs[0]",
  })
  void policyAppliesToPodAndServiceCidrs(String which, String cidr, String field) {
    ClusterRecord.Builder b = east();
    if (which.equals("pod")) {
      b.setPodCidrs(0, cidr);
    } else {
      b.setServiceCidrs(0, cidr);
    }
    InvalidField e = assertThrows(InvalidField.class, () -> VALIDATOR.clusterRecord("record", b.build()));
    assertEquals(field, e.field());
  }

  @Test
  void generationIsBoundedAndReadAsUnsigned() {
    InvalidField e = assertThrows(InvalidField.class,
        () -> VALIDATOR.clusterRecord("record", east().setGeneration(-1).build()));
    assertEquals("record.generation: 18446744073709551615 out of range 1..9007199254740991", e.getMessage());
  }

  @Test
  void probePortIsOptionalButNeverTheWireGuardPortOrOutOfRange() throws InvalidField {
    assertEquals(0, VALIDATOR.clusterRecord("record", east().build()).probePort());
    assertEquals(51821, VALIDATOR.clusterRecord("record", east().setProbePort(51821).build()).probePort());
    InvalidField same = assertThrows(InvalidField.class,
        () -> VALIDATOR.clusterRecord("record", east().setProbePort(51820).build()));
    assertEquals("record.probe_port", same.field());
    assertTrue(same.problem().contains("WireGuard listen port"), same.problem());
    InvalidField high = assertThrows(InvalidField.class,
        () -> VALIDATOR.clusterRecord("record", east().setProbePort(70_000).build()));
    assertEquals("record.probe_port: 70000 out of range 0..65535 (0: not announced)", high.getMessage());
    InvalidField unsigned = assertThrows(InvalidField.class,
        () -> VALIDATOR.clusterRecord("record", east().setProbePort(-1).build()));
    assertEquals("record.probe_port: 4294967295 out of range 0..65535 (0: not announced)", unsigned.getMessage());
  }

  @Test
  void viewMappingsMatchFamilyAndSizeAndFollowThePolicy() {
    PeerView.Builder v = PeerView.newBuilder().setObserverClusterId("west").setSubjectClusterId("east")
        .setGeneration(1).addMappings(CidrMapping.newBuilder().setOriginal("10.1.0.0/16").setSeenAs("127.0.0.0/16"));
    InvalidField e = assertThrows(InvalidField.class, () -> VALIDATOR.peerView("view", v.build()));
    assertEquals("view.mappings[0].seen_as", e.field());
    assertTrue(e.problem().contains("loopback"), e.problem());
  }

  @Test
  void aTighterPolicyRefusesWhatTheDefaultAccepts() {
    WireValidator tight = new WireValidator(new AddressPolicy(24, 64));
    InvalidField e = assertThrows(InvalidField.class, () -> tight.clusterRecord("record", east().build()));
    assertEquals("record.pod_cidrs[0]", e.field());
  }
}
