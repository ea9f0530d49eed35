package io.meshwire.agent.path;

import io.meshwire.netaddr.HostPort;
import java.io.IOException;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code KnownRelays} is the relay list the agent last heard from the hub, kept in
 * {@link PathStateFile} so that an agent restarted while the hub is down still knows its relays.
 * Every hello carries the whole list; only a changed list is written (and logged once,
 * {@code event=relays_changed}). A write that fails is logged and retried with the next hello:
 * the list in memory is what counts while the agent runs. Thread-safe.
 */
public final class KnownRelays implements Consumer<List<HostPort>> {

  private static final Logger log = LoggerFactory.getLogger(KnownRelays.class);

  private final PathStateFile file;
  private final Function<List<HostPort>, SavedPaths> toSave;
  // @GuardedBy("this")
  private List<HostPort> relays;
  // @GuardedBy("this")
  private boolean saved = true;

  /**
   * @param initial the relays loaded from the file at start (empty when it was missing or corrupt)
   * @param toSave the whole path state to write with a new relay list (the links' paths with it)
   */
  public KnownRelays(PathStateFile file, List<HostPort> initial, Function<List<HostPort>, SavedPaths> toSave) {
    this.file = file;
    this.relays = List.copyOf(initial);
    this.toSave = toSave;
  }

  /** The relays now; empty: the hub lists none and path selection stays off. */
  public synchronized List<HostPort> current() {
    return relays;
  }

  /** The hub's list, from a hello. */
  @Override
  public synchronized void accept(List<HostPort> fromHub) {
    List<HostPort> next = List.copyOf(fromHub);
    if (next.equals(relays) && saved) {
      return;
    }
    if (!next.equals(relays)) {
      log.info("event=relays_changed count={} relays={}", next.size(), next);
    }
    relays = next;
    try {
      file.save(toSave.apply(next));
      saved = true;
    } catch (IOException | RuntimeException e) {
      saved = false;
      log.warn("event=relays_not_saved error=\"{}\" (kept in memory, retried with the next hello)", e.getMessage());
    }
  }
}
