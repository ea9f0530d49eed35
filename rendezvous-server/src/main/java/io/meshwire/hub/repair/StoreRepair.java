package io.meshwire.hub.repair;

import com.google.protobuf.InvalidProtocolBufferException;
import io.meshwire.hub.log.SnapshotImage;
import io.meshwire.hub.membership.ClusterRecord;
import io.meshwire.hub.membership.MembershipEvent;
import io.meshwire.hub.membership.PeerView;
import io.meshwire.hub.membership.UnreadableRecord;
import io.meshwire.hub.policy.Peering;
import io.meshwire.hub.policy.PeeringDefault;
import io.meshwire.hub.policy.PeeringRules;
import io.meshwire.hub.store.Entry;
import io.meshwire.hub.store.FileLogStore;
import io.meshwire.hub.store.Recovered;
import io.meshwire.hub.store.StoreException;
import io.meshwire.hub.wire.ProtoEventCodec;
import io.meshwire.hub.wire.PolicyMapper;
import io.meshwire.hub.wire.ProtoMapper;
import io.meshwire.proto.rendezvous.v1.SnapshotChunk;
import io.meshwire.proto.rendezvous.v1.WatchEvent;
import io.meshwire.validation.WireValidator;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.stream.Stream;

/**
 * {@code StoreRepair} is {@code meshwire hub repair}: it quarantines the records of named clusters
 * from a hub's store that the hub refuses to start on. It replays the log at the wire level (no
 * validation, so it can read what recovery refused), drops every record of the named clusters and
 * every view from or about them, checks that everything left passes the validator, then makes the
 * result the store's new state: a removal of each dropped cluster still present (so watchers that
 * resume drop it too) and a snapshot at the head, after which the store drops the old entries.
 * Before changing anything it copies the store directory to {@code log.before-repair-<time>}.
 *
 * <p>Runs with the hub stopped: the store's directory lock refuses a second opener. Not
 * thread-safe; one run per process.
 */
public final class StoreRepair {

  /** What a repair did, for the command's output. */
  public record Outcome(Path backup, long revision, List<String> dropped, int clustersKept, int viewsKept) {}

  private record ViewKey(String observer, String subject) {}

  private StoreRepair() {}

  /**
   * Quarantines the records of {@code dropClusters} in the store of hub data directory {@code
   * dataDir}, validating what is left with {@code validator}.
   *
   * @throws RepairException naming what is wrong (no such cluster in the store, other records
   *     still unreadable: name them too, the store is busy or damaged); the store is unchanged
   */
  public static Outcome run(Path dataDir, Set<String> dropClusters, WireValidator validator, Instant now)
      throws RepairException {
    Path logDir = dataDir.resolve("log");
    if (!Files.isDirectory(logDir)) {
      throw new RepairException(logDir + ": no hub store here (is --data-dir the hub's data directory?)");
    }
    try (FileLogStore store = FileLogStore.open(logDir, FileLogStore.Options.defaults(), new SimpleMeterRegistry())) {
      Recovered recovered = store.recovered();
      Map<String, io.meshwire.proto.rendezvous.v1.ClusterRecord> clusters = new TreeMap<>();
      Map<ViewKey, io.meshwire.proto.rendezvous.v1.PeerView> views = new HashMap<>();
      Set<String> seen = new java.util.TreeSet<>();
      // Peering rules (labels, policies) are the operator's, not a cluster's: kept as they are.
      PeeringRules peering = PeeringRules.EMPTY;
      if (recovered.snapshot() != null) {
        SnapshotChunk chunk = SnapshotChunk.parseFrom(recovered.snapshot().state());
        peering = PolicyMapper.fromStored(chunk.getPeering());
        chunk.getClustersList().forEach(c -> {
          clusters.put(c.getClusterId(), c);
          seen.add(c.getClusterId());
        });
        chunk.getViewsList().forEach(v -> views.put(key(v), v));
      }
      for (Entry entry : recovered.entries()) {
        WatchEvent e = WatchEvent.parseFrom(entry.bytes());
        switch (e.getEventCase()) {
          case CLUSTER_UPSERTED -> {
            var r = e.getClusterUpserted().getRecord();
            clusters.put(r.getClusterId(), r);
            seen.add(r.getClusterId());
          }
          case CLUSTER_REMOVED -> {
            String id = e.getClusterRemoved().getClusterId();
            clusters.remove(id);
            views.keySet().removeIf(k -> k.observer().equals(id) || k.subject().equals(id));
          }
          case VIEW_UPDATED -> {
            var v = e.getViewUpdated().getView();
            views.put(key(v), v);
            seen.add(v.getObserverClusterId());
          }
          case VIEW_REMOVED -> views.remove(new ViewKey(e.getViewRemoved().getObserverClusterId(),
              e.getViewRemoved().getSubjectClusterId()));
          case PEERING_CHANGED -> peering = peering.with(PolicyMapper.fromStored(e.getPeeringChanged()));
          default -> throw new RepairException("entry at revision " + entry.revision() + " has unexpected kind "
              + e.getEventCase() + "; restore the data directory from a backup");
        }
      }
      for (String id : dropClusters) {
        if (!seen.contains(id)) {
          throw new RepairException("cluster \"" + id + "\" has no record or view in " + logDir + "; nothing changed");
        }
      }
      List<String> stillPresent = dropClusters.stream().filter(clusters::containsKey).sorted().toList();
      clusters.keySet().removeAll(dropClusters);
      views.keySet().removeIf(k -> dropClusters.contains(k.observer()) || dropClusters.contains(k.subject()));

      List<ClusterRecord> kept = new ArrayList<>();
      Map<String, List<PeerView>> keptViews = new HashMap<>();
      List<String> unreadable = new ArrayList<>();
      for (var c : clusters.values()) {
        try {
          kept.add(ProtoMapper.fromStored(validator, c));
        } catch (UnreadableRecord bad) {
          unreadable.add("cluster \"" + c.getClusterId() + "\": " + bad.getMessage());
        }
      }
      for (var v : views.values()) {
        try {
          PeerView view = ProtoMapper.fromStored(validator, v);
          keptViews.computeIfAbsent(view.subjectClusterId(), k -> new ArrayList<>()).add(view);
        } catch (UnreadableRecord bad) {
          unreadable.add("view of cluster \"" + v.getObserverClusterId() + "\": " + bad.getMessage());
        }
      }
      if (!unreadable.isEmpty()) {
        throw new RepairException("other records cannot be read back either (add a --drop-cluster for each); "
            + "nothing changed: " + String.join("; ", unreadable));
      }

      Path backup = backup(logDir, now);
      ProtoEventCodec codec = new ProtoEventCodec(validator);
      long revision = recovered.lastRevision();
      for (String id : stillPresent) {
        revision++;
        store.append(revision, codec.encodeEvent(revision,
            new MembershipEvent.ClusterRemoved(id, MembershipEvent.RemovalReason.REMOVED))).get();
      }
      store.snapshot(revision, codec.encodeState(new SnapshotImage(revision, kept, keptViews,
          new Peering(peering, PeeringDefault.ALLOW))));
      int viewCount = keptViews.values().stream().mapToInt(List::size).sum();
      return new Outcome(backup, revision, dropClusters.stream().sorted().toList(), kept.size(), viewCount);
    } catch (StoreException e) {
      throw new RepairException("cannot open the store (is a hub still running on it?): " + e.getMessage(), e);
    } catch (InvalidProtocolBufferException e) {
      throw new RepairException("a stored entry does not parse: " + e.getMessage()
          + "; restore the data directory from a backup", e);
    } catch (IOException e) {
      throw new RepairException("cannot copy the store before repairing it: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RepairException("interrupted", e);
    } catch (ExecutionException e) {
      throw new RepairException("cannot write to the store: " + e.getCause(), e);
    }
  }

  private static ViewKey key(io.meshwire.proto.rendezvous.v1.PeerView v) {
    return new ViewKey(v.getObserverClusterId(), v.getSubjectClusterId());
  }

  /** Copies every regular file of the store (not its lock) to a new sibling directory. */
  private static Path backup(Path logDir, Instant now) throws IOException {
    String stamp = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC).format(now);
    Path backup = logDir.resolveSibling("log.before-repair-" + stamp);
    Files.createDirectory(backup);
    try (Stream<Path> files = Files.list(logDir)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        if (Files.isRegularFile(f) && !f.getFileName().toString().equals("lock")) {
          Files.copy(f, backup.resolve(f.getFileName()), StandardCopyOption.COPY_ATTRIBUTES);
        }
      }
    }
    return backup;
  }

  /** The repair did not run; the message says why and what to do. Nothing was changed. */
  public static final class RepairException extends Exception {
    @java.io.Serial private static final long serialVersionUID = 1L;

    RepairException(String message) {
      super(message);
    }

    RepairException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
