package io.meshwire.reflection.export;

import io.kubernetes.client.informer.ResourceEventHandler;
import io.kubernetes.client.informer.SharedIndexInformer;
import io.kubernetes.client.informer.SharedInformerFactory;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.models.V1Condition;
import io.kubernetes.client.openapi.models.V1EndpointSlice;
import io.kubernetes.client.openapi.models.V1EndpointSliceList;
import io.kubernetes.client.openapi.models.V1Service;
import io.kubernetes.client.openapi.models.V1ServiceList;
import io.kubernetes.client.util.generic.GenericKubernetesApi;
import io.kubernetes.client.openapi.ApiException;
import io.meshwire.reflection.kube.StatusWriter;
import io.kubernetes.client.common.KubernetesObject;
import io.meshwire.reflection.catalog.Catalog;
import io.meshwire.reflection.catalog.CatalogLimits;
import io.meshwire.reflection.catalog.ServiceRef;
import io.meshwire.reflection.kube.KubeApis;
import io.meshwire.reflection.kube.V1alpha1ServiceExport;
import java.time.Duration;
import java.time.InstantSource;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code KubeExportWatcher} keeps this cluster's catalog current: the official client's informers
 * watch ServiceExports, Services and EndpointSlices; any change schedules one rebuild after
 * {@code debounce} (changes arriving meanwhile join it); the rebuild runs {@link CatalogBuilder}
 * over the informers' caches, hands a new {@link Catalog} to the consumer when the services
 * changed, and writes the {@code Valid}/{@code Conflict} conditions of ServiceExports whose
 * conditions changed.
 *
 * <p>Nothing is published before all three informers have synced, so a half-filled cache can never
 * look like a mass unexport to the peers. The first catalog (possibly empty, revision 0) is
 * published as soon as they have. The catalog uid is new for each watcher, so peers start over
 * with a full catalog after an agent restart.
 *
 * <p>Threads: the informers' threads only schedule; rebuilds, the catalog and status writes are
 * owned by one private thread ({@code reflection-export}); the consumer is called on it.
 */
public final class KubeExportWatcher implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(KubeExportWatcher.class);

  /**
   * @param debounce how long to gather changes before rebuilding
   * @param resync how often the informers replay their caches (a periodic full rebuild)
   */
  public record Options(Duration debounce, Duration resync, CatalogLimits limits) {
    public static Options defaults() {
      return new Options(Duration.ofMillis(200), Duration.ofMinutes(5), CatalogLimits.defaults());
    }
  }

  private final String clusterId;
  private final Options options;
  private final InstantSource clock;
  private final Consumer<Catalog> consumer;
  private final CatalogBuilder builder;
  private final SharedInformerFactory factory;
  private final SharedIndexInformer<V1alpha1ServiceExport> exports;
  private final SharedIndexInformer<V1Service> services;
  private final SharedIndexInformer<V1EndpointSlice> slices;
  private final StatusWriter statusWriter;
  private final ScheduledExecutorService executor;
  private final AtomicBoolean pending = new AtomicBoolean();
  private volatile Map<String, Catalog> remotes = Map.of();
  // Owned by the executor thread.
  private Catalog current = Catalog.empty();
  private boolean published;
  private volatile boolean started;
  private volatile Catalog latest;

  public KubeExportWatcher(ApiClient client, String clusterId, Options options, InstantSource clock,
      Consumer<Catalog> consumer) {
    this.clusterId = Objects.requireNonNull(clusterId, "clusterId");
    this.options = options;
    this.clock = clock;
    this.consumer = consumer;
    this.builder = new CatalogBuilder(clusterId, options.limits());
    this.factory = new SharedInformerFactory(client);
    long resync = options.resync().toMillis();
    this.exports = factory.sharedIndexInformerFor(KubeApis.serviceExports(client), V1alpha1ServiceExport.class, resync);
    GenericKubernetesApi<V1Service, V1ServiceList> serviceApi = KubeApis.services(client);
    this.services = factory.sharedIndexInformerFor(serviceApi, V1Service.class, resync);
    GenericKubernetesApi<V1EndpointSlice, V1EndpointSliceList> sliceApi = KubeApis.endpointSlices(client);
    this.slices = factory.sharedIndexInformerFor(sliceApi, V1EndpointSlice.class, resync);
    this.statusWriter = new StatusWriter(client);
    this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "reflection-export");
      t.setDaemon(true);
      return t;
    });
    exports.addEventHandler(trigger());
    services.addEventHandler(trigger());
    slices.addEventHandler(trigger());
  }

  /** Starts the informers; the first catalog follows once they have synced. */
  public void start() {
    started = true;
    factory.startAllRegisteredInformers();
    rebuildSoon();
  }

  /** Whether all informers have listed once. */
  public boolean hasSynced() {
    return exports.hasSynced() && services.hasSynced() && slices.hasSynced();
  }

  /** The last published catalog, or null before the first. */
  public Catalog latest() {
    return latest;
  }

  /** The other clusters' latest catalogs changed: conflict conditions are recomputed. */
  public void remoteCatalogs(Map<String, Catalog> byCluster) {
    remotes = Map.copyOf(byCluster);
    if (started) {
      rebuildSoon(); // before start(), the first rebuild after it reads them
    }
  }

  /** Rebuilds now-ish, as if something changed (a periodic repair may call it). */
  public void rebuildSoon() {
    if (pending.compareAndSet(false, true)) {
      executor.schedule(this::rebuild, options.debounce().toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  private <T extends KubernetesObject> ResourceEventHandler<T> trigger() {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(T obj) {
        rebuildSoon();
      }

      @Override
      public void onUpdate(T oldObj, T newObj) {
        rebuildSoon();
      }

      @Override
      public void onDelete(T obj, boolean deletedFinalStateUnknown) {
        rebuildSoon();
      }
    };
  }

  private void rebuild() {
    pending.set(false);
    try {
      if (!hasSynced()) {
        rebuildSoon();
        return;
      }
      List<V1alpha1ServiceExport> exportList = exports.getIndexer().list();
      ExportPlan plan = builder.build(exportList, services.getIndexer().list(), slices.getIndexer().list(), remotes);
      Catalog next = current.next(plan.services());
      if (next != current || !published) {
        current = next;
        published = true;
        latest = next;
        log.info("catalog rebuilt cluster={} revision={} services={}", clusterId, next.revision(), next.services().size());
        consumer.accept(next);
      }
      writeConditions(exportList, plan.conditions());
    } catch (RuntimeException e) {
      log.warn("catalog rebuild failed cluster={} error=\"{}\"; retrying", clusterId, e.toString());
      executor.schedule(this::rebuildSoon, 1, TimeUnit.SECONDS);
    }
  }

  private void writeConditions(List<V1alpha1ServiceExport> exportList, Map<ServiceRef, List<ExportCondition>> plan) {
    for (V1alpha1ServiceExport export : exportList) {
      ServiceRef ref = new ServiceRef(export.getMetadata().getNamespace(), export.getMetadata().getName());
      List<ExportCondition> wanted = plan.getOrDefault(ref, List.of());
      List<V1Condition> existing = export.getStatus() == null ? List.of() : export.getStatus().getConditions();
      List<V1Condition> merged = mergeConditions(existing, wanted, export.getMetadata().getGeneration());
      if (sameConditions(existing, merged)) {
        continue;
      }
      try {
        statusWriter.write("serviceexports", ref.namespace(), ref.name(),
            new V1alpha1ServiceExport.Status().conditions(merged));
      } catch (ApiException e) {
        // Gone or changed meanwhile: the informer brings the news and the next rebuild tries again.
        log.info("serviceexport status not written export={} code={} message=\"{}\"", ref, e.getCode(),
            e.getMessage());
      }
    }
  }

  /** Conditions of other types are kept; ours keep their transition time while their status holds. */
  List<V1Condition> mergeConditions(List<V1Condition> existing, List<ExportCondition> wanted, Long generation) {
    List<V1Condition> out = new ArrayList<>();
    for (V1Condition c : existing) {
      if (wanted.stream().noneMatch(w -> w.type().equals(c.getType()))) {
        out.add(c);
      }
    }
    for (ExportCondition w : wanted) {
      V1Condition old = existing.stream().filter(c -> w.type().equals(c.getType())).findFirst().orElse(null);
      var since = old != null && w.status().equals(old.getStatus()) && old.getLastTransitionTime() != null
          ? old.getLastTransitionTime()
          : clock.instant().atOffset(ZoneOffset.UTC).withNano(0);
      out.add(new V1Condition().type(w.type()).status(w.status()).reason(w.reason()).message(w.message())
          .lastTransitionTime(since).observedGeneration(generation));
    }
    return out;
  }

  private static boolean sameConditions(List<V1Condition> a, List<V1Condition> b) {
    if (a.size() != b.size()) {
      return false;
    }
    for (int i = 0; i < a.size(); i++) {
      V1Condition x = a.get(i);
      V1Condition y = b.get(i);
      if (!Objects.equals(x.getType(), y.getType()) || !Objects.equals(x.getStatus(), y.getStatus())
          || !Objects.equals(x.getReason(), y.getReason()) || !Objects.equals(x.getMessage(), y.getMessage())) {
        return false;
      }
    }
    return true;
  }

  @Override
  public void close() {
    factory.stopAllRegisteredInformers();
    executor.shutdownNow();
  }
}
