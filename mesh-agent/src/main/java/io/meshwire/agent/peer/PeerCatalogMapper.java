package io.meshwire.agent.peer;

import com.google.protobuf.Timestamp;
import io.meshwire.netaddr.Cidr;
import io.meshwire.proto.peer.v1.CatalogEvent;
import io.meshwire.proto.peer.v1.FullCatalog;
import io.meshwire.reflection.catalog.Catalog;
import io.meshwire.reflection.catalog.CatalogChange;
import io.meshwire.reflection.catalog.Endpoint;
import io.meshwire.reflection.catalog.ExportedService;
import io.meshwire.reflection.catalog.ServicePort;
import io.meshwire.reflection.catalog.ServiceRef;
import io.meshwire.reflection.catalog.ServiceType;
import java.net.InetAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code PeerCatalogMapper} is the one place where peer-protocol messages become catalog records
 * and back. Decoding checks what the types cannot hold (addresses that are not IP literals, ports
 * beyond 16 bits, an unknown service type) and fails with the field named; the limits on sizes are
 * {@link io.meshwire.reflection.catalog.CatalogLimits}'. Stateless.
 */
public final class PeerCatalogMapper {

  private PeerCatalogMapper() {}

  /** A message from a peer that cannot be a catalog; the message names the field. */
  public static final class InvalidCatalogException extends Exception {
    private static final long serialVersionUID = 1L;

    public InvalidCatalogException(String message) {
      super(message);
    }
  }

  public static CatalogEvent full(Catalog catalog) {
    FullCatalog.Builder full = FullCatalog.newBuilder().setCatalogUid(catalog.catalogUid());
    catalog.services().forEach(s -> full.addServices(toProto(s)));
    return CatalogEvent.newBuilder().setRevision(catalog.revision()).setFull(full).build();
  }

  public static CatalogEvent change(CatalogChange change) {
    CatalogEvent.Builder event = CatalogEvent.newBuilder().setRevision(change.revision());
    switch (change) {
      case CatalogChange.Upserted u -> event.setServiceUpserted(toProto(u.service()));
      case CatalogChange.Removed r -> event.setServiceRemoved(ref(r.ref()));
    }
    return event.build();
  }

  static io.meshwire.proto.peer.v1.ServiceRef ref(ServiceRef ref) {
    return io.meshwire.proto.peer.v1.ServiceRef.newBuilder().setNamespace(ref.namespace()).setName(ref.name()).build();
  }

  static io.meshwire.proto.peer.v1.ExportedService toProto(ExportedService s) {
    var out = io.meshwire.proto.peer.v1.ExportedService.newBuilder()
        .setRef(ref(s.ref()))
        .setType(s.type() == ServiceType.HEADLESS ? io.meshwire.proto.peer.v1.ServiceType.SERVICE_TYPE_HEADLESS
            : io.meshwire.proto.peer.v1.ServiceType.SERVICE_TYPE_CLUSTER_SET_IP)
        .setExportedAt(Timestamp.newBuilder().setSeconds(s.exportedAt().getEpochSecond()).setNanos(s.exportedAt().getNano()));
    for (ServicePort p : s.ports()) {
      out.addPorts(io.meshwire.proto.peer.v1.ServicePort.newBuilder().setName(p.name()).setProtocol(p.protocol())
          .setPort(p.port()).setAppProtocol(p.appProtocol()));
    }
    for (Endpoint e : s.endpoints()) {
      var ep = io.meshwire.proto.peer.v1.Endpoint.newBuilder().setReady(e.ready()).setServing(e.serving())
          .setTerminating(e.terminating()).setHostname(e.hostname()).setZone(e.zone());
      e.addresses().forEach(a -> ep.addAddresses(Cidr.format(a)));
      e.targetPorts().forEach(ep::putTargetPorts);
      out.addEndpoints(ep);
    }
    return out.build();
  }

  /** Decodes a full catalog event. */
  public static Catalog fromFull(long revision, FullCatalog full) throws InvalidCatalogException {
    List<ExportedService> services = new ArrayList<>();
    for (int i = 0; i < full.getServicesCount(); i++) {
      services.add(fromProto(full.getServices(i), "full.services[" + i + "]"));
    }
    try {
      return new Catalog(full.getCatalogUid(), revision, services);
    } catch (IllegalArgumentException e) {
      throw new InvalidCatalogException("full: " + e.getMessage());
    }
  }

  static ServiceRef fromProto(io.meshwire.proto.peer.v1.ServiceRef ref) {
    return new ServiceRef(ref.getNamespace(), ref.getName());
  }

  /** Decodes one service; {@code where} prefixes error messages. */
  public static ExportedService fromProto(io.meshwire.proto.peer.v1.ExportedService s, String where)
      throws InvalidCatalogException {
    ServiceType type = switch (s.getType()) {
      case SERVICE_TYPE_CLUSTER_SET_IP -> ServiceType.CLUSTER_SET_IP;
      case SERVICE_TYPE_HEADLESS -> ServiceType.HEADLESS;
      default -> throw new InvalidCatalogException(where + ".type: " + s.getType() + " is not ClusterSetIP or Headless");
    };
    List<ServicePort> ports = new ArrayList<>();
    for (int i = 0; i < s.getPortsCount(); i++) {
      var p = s.getPorts(i);
      if (p.getPort() > 65535) {
        throw new InvalidCatalogException(where + ".ports[" + i + "].port: " + Integer.toUnsignedString(p.getPort())
            + " out of range 1..65535");
      }
      ports.add(new ServicePort(p.getName(), p.getProtocol(), p.getPort(), p.getAppProtocol()));
    }
    List<Endpoint> endpoints = new ArrayList<>();
    for (int i = 0; i < s.getEndpointsCount(); i++) {
      var e = s.getEndpoints(i);
      List<InetAddress> addresses = new ArrayList<>();
      for (int j = 0; j < e.getAddressesCount(); j++) {
        try {
          addresses.add(Cidr.parseAddress(e.getAddresses(j)));
        } catch (IllegalArgumentException bad) {
          throw new InvalidCatalogException(where + ".endpoints[" + i + "].addresses[" + j + "]: " + bad.getMessage());
        }
      }
      Map<String, Integer> targetPorts = new TreeMap<>();
      for (var tp : e.getTargetPortsMap().entrySet()) {
        if (tp.getValue() > 65535) {
          throw new InvalidCatalogException(where + ".endpoints[" + i + "].target_ports[" + tp.getKey() + "]: "
              + Integer.toUnsignedString(tp.getValue()) + " out of range 1..65535");
        }
        targetPorts.put(tp.getKey(), tp.getValue());
      }
      endpoints.add(new Endpoint(addresses, e.getReady(), e.getServing(), e.getTerminating(), e.getHostname(), e.getZone(),
          targetPorts));
    }
    Instant exportedAt = Instant.ofEpochSecond(s.getExportedAt().getSeconds(), Math.clamp(s.getExportedAt().getNanos(), 0, 999_999_999));
    return new ExportedService(s.getRef().getNamespace(), s.getRef().getName(), type, ports, endpoints, exportedAt);
  }
}
