package io.meshwire.agent.path;

import io.meshwire.agent.state.FramedFile;
import io.meshwire.certs.AtomicFiles;
import io.meshwire.netaddr.HostPort;
import io.meshwire.proto.agent.v1.LinkPathState;
import io.meshwire.proto.agent.v1.PathState;
import io.meshwire.proto.rendezvous.v1.LinkPath;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code PathStateFile} keeps {@link SavedPaths} in {@code paths.bin} next to the state file:
 * framed like the agent's other files ({@link FramedFile}, magic {@code MWPS}), written atomically
 * with fsync, mode 0600. A file that does not load is moved aside and reported; the agent then
 * starts every link afresh (direct first) and learns the relays again from the hub. Thread-safe.
 */
public final class PathStateFile {

  private static final Logger log = LoggerFactory.getLogger(PathStateFile.class);
  private static final FramedFile.Format FORMAT = new FramedFile.Format("MWPS", (byte) 1, "meshwire path state",
      4 * 1024 * 1024);

  private final java.nio.file.Path file;
  private final InstantSource clock;

  public PathStateFile(java.nio.file.Path file, InstantSource clock) {
    this.file = file;
    this.clock = clock;
  }

  /** The outcome of {@link #load}. */
  public sealed interface Loaded {
    record Found(SavedPaths paths) implements Loaded {}

    record Missing() implements Loaded {}

    /** The file was unusable; it now lives at {@code movedTo}. */
    record Corrupt(String problem, java.nio.file.Path movedTo) implements Loaded {}
  }

  public Loaded load() throws IOException {
    return switch (FramedFile.read(file, FORMAT, payload -> fromProto(PathState.parseFrom(payload)), clock)) {
      case FramedFile.Read.Found<SavedPaths> found -> new Loaded.Found(found.value());
      case FramedFile.Read.Missing<SavedPaths> missing -> new Loaded.Missing();
      case FramedFile.Read.MovedAside<SavedPaths> aside -> {
        log.warn("event=path_state_corrupt file={} moved_to={} problem=\"{}\"", file, aside.movedTo(),
            aside.problem());
        yield new Loaded.Corrupt(aside.problem(), aside.movedTo());
      }
    };
  }

  public synchronized void save(SavedPaths paths) throws IOException {
    byte[] framed;
    try {
      framed = FramedFile.frame(FORMAT, toProto(paths, clock.instant()).toByteArray());
    } catch (IllegalArgumentException tooLarge) {
      throw new IOException(tooLarge.getMessage(), tooLarge);
    }
    Files.createDirectories(file.toAbsolutePath().getParent());
    AtomicFiles.write(file, framed, AtomicFiles.OWNER_ONLY);
  }

  static PathState toProto(SavedPaths paths, Instant now) {
    PathState.Builder b = PathState.newBuilder().setWrittenAt(timestamp(now));
    paths.relays().forEach(r -> b.addRelays(r.toString()));
    paths.links().forEach((peer, link) -> b.addLinks(LinkPathState.newBuilder()
        .setPeerClusterId(peer)
        .setPath(toProto(link.path()))
        .setSince(timestamp(link.since()))
        .setBackoff(com.google.protobuf.Duration.newBuilder().setSeconds(link.backoff().toSeconds())
            .setNanos(link.backoff().toNanosPart()))));
    return b.build();
  }

  /**
   * @throws IllegalArgumentException naming the field that is wrong
   */
  static SavedPaths fromProto(PathState p) {
    List<HostPort> relays = new ArrayList<>();
    for (int i = 0; i < p.getRelaysCount(); i++) {
      try {
        relays.add(HostPort.parse(p.getRelays(i)));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("relays[" + i + "] " + e.getMessage(), e);
      }
    }
    Map<String, SavedPaths.Link> links = new LinkedHashMap<>();
    for (int i = 0; i < p.getLinksCount(); i++) {
      LinkPathState l = p.getLinks(i);
      Path path = switch (l.getPath()) {
        case LINK_PATH_DIRECT -> Path.DIRECT;
        case LINK_PATH_RELAYED -> Path.RELAYED;
        case LINK_PATH_TRYING -> Path.TRYING;
        default -> throw new IllegalArgumentException("links[" + i + "].path: " + l.getPath() + " is not a path");
      };
      if (l.getPeerClusterId().isEmpty() || links.containsKey(l.getPeerClusterId())) {
        throw new IllegalArgumentException("links[" + i + "].peer_cluster_id \"" + l.getPeerClusterId()
            + "\": empty or repeated");
      }
      Duration backoff = Duration.ofSeconds(l.getBackoff().getSeconds(), l.getBackoff().getNanos());
      if (backoff.isNegative()) {
        throw new IllegalArgumentException("links[" + i + "].backoff is negative");
      }
      links.put(l.getPeerClusterId(), new SavedPaths.Link(path,
          Instant.ofEpochSecond(l.getSince().getSeconds(), l.getSince().getNanos()), backoff));
    }
    return new SavedPaths(relays, links);
  }

  /** The wire form of {@code path} (state file and link reports to the hub). */
  public static LinkPath toProto(Path path) {
    return switch (path) {
      case TRYING -> LinkPath.LINK_PATH_TRYING;
      case DIRECT -> LinkPath.LINK_PATH_DIRECT;
      case RELAYED -> LinkPath.LINK_PATH_RELAYED;
    };
  }

  private static com.google.protobuf.Timestamp timestamp(Instant t) {
    return com.google.protobuf.Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
  }
}
