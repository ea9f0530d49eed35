package io.meshwire.reflection.imports;

import io.meshwire.reflection.catalog.ServicePort;
import io.meshwire.reflection.catalog.ServiceType;
import java.util.List;

/**
 * {@code ImportedObject} is the part of an imported Kubernetes object that meshwire owns, as plain
 * data: the desired state is made of these, the actual objects are read back into them, and equal
 * records mean nothing to write. Fields the API server fills in (cluster IP, uid, timestamps) are
 * not part of it.
 */
sealed interface ImportedObject {

  ObjectKey key();

  /**
   * A ServiceImport: the clusterset view of one service.
   *
   * @param ips the derived Service's cluster IP once the API server assigned one, else empty
   * @param clusters the source clusters, sorted
   */
  record ServiceImportObject(String namespace, String name, ServiceType type, List<ServicePort> ports,
      List<String> ips, List<String> clusters, String derivedService) implements ImportedObject {
    public ServiceImportObject {
      ports = List.copyOf(ports);
      ips = List.copyOf(ips);
      clusters = List.copyOf(clusters);
    }

    @Override
    public ObjectKey key() {
      return new ObjectKey(ObjectKey.Kind.SERVICE_IMPORT, namespace, name);
    }
  }

  /**
   * The derived Service: selectorless, ClusterIP (or headless), labelled with the exported
   * service's name; its EndpointSlices are the imported ones.
   */
  record DerivedServiceObject(String namespace, String name, String serviceName, boolean headless,
      List<ServicePort> ports) implements ImportedObject {
    public DerivedServiceObject {
      ports = List.copyOf(ports);
    }

    @Override
    public ObjectKey key() {
      return new ObjectKey(ObjectKey.Kind.SERVICE, namespace, name);
    }
  }

  /**
   * An EndpointSlice of one source cluster with one address family and one set of target ports.
   *
   * @param addressType {@code IPv4} or {@code IPv6}
   * @param ports the target ports, by service port name (the port numbers pods listen on)
   */
  record SliceObject(String namespace, String name, String serviceName, String sourceCluster, String derivedService,
      String addressType, List<ServicePort> ports, List<SliceEndpoint> endpoints) implements ImportedObject {
    public SliceObject {
      ports = List.copyOf(ports);
      endpoints = List.copyOf(endpoints);
    }

    @Override
    public ObjectKey key() {
      return new ObjectKey(ObjectKey.Kind.ENDPOINT_SLICE, namespace, name);
    }
  }

  /** One endpoint of an imported slice, addresses already translated; {@code hostname}, {@code zone} may be empty. */
  record SliceEndpoint(List<String> addresses, boolean ready, boolean serving, boolean terminating, String hostname,
      String zone) {
    public SliceEndpoint {
      addresses = List.copyOf(addresses);
    }
  }
}
