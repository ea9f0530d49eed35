package io.meshwire.hub.store;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.BaseUnits;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code FileLogStore}: the hub's embedded {@link MembershipStore}, a log of segment files plus the
 * latest snapshot in one local directory.
 *
 * <p>Directory layout: {@code mesh_uid} (a UUID, written once), {@code lock} (held with an OS file
 * lock while open, so a second store on the same directory fails fast), segments {@code
 * log-<first revision, 20 digits>.seg} holding records framed by {@link LogRecord} with
 * consecutive revisions, and {@code snapshot-<revision, 20 digits>.snap} ({@link SnapshotFile}).
 * A segment is closed and a new one started before a record that would take it past {@link
 * Options#maxSegmentBytes()}; a record larger than that gets a segment of its own.
 *
 * <p>Durability: an append is acknowledged after {@code fdatasync} of its segment (and of the
 * directory when the segment is new). At open, a bad or incomplete record at the very end of the
 * last segment is a torn write from a crash and is cut off (reported and logged once at WARN);
 * any other damage is a {@link StoreException} naming the file and offset. See {@link Recovery}.
 *
 * <p>Thread-safety: thread-safe. One platform daemon thread, {@code hub-store-writer}, owns the
 * segment channel: appenders take {@code lock} only to check the revision and enqueue; the writer
 * takes the whole queue, writes it, fsyncs once and completes the futures in revision order with no
 * lock held (group commit). Dependent stages attached without an executor therefore run on the
 * writer thread and delay the next fsync: keep them short. {@link #snapshot} runs on the caller's
 * thread, serialized by {@code snapshotLock}; it deletes only segments the writer has moved past.
 *
 * <p>Metrics (registered at open, removed at close; one store per registry): {@code
 * meshwire.hub.store.fsync} (timer with percentile histogram), {@code meshwire.hub.store.batch.size}
 * (entries per writer batch), {@code meshwire.hub.store.appended.bytes} (counter, headers
 * included), {@code meshwire.hub.store.segments} (gauge), {@code meshwire.hub.store.write.errors}
 * and {@code meshwire.hub.store.snapshot} (timer).
 */
public final class FileLogStore implements MembershipStore {

  /**
   * {@code Options}: tuning of a {@link FileLogStore}. Immutable; validated on construction with
   * a message naming the setting.
   *
   * @param maxSegmentBytes size after which appends move to a new segment file
   * @param maxBatchDelay how long the writer waits, after the first entry of a batch arrived, for
   *     more entries to share its fsync; zero fsyncs as soon as the writer wakes (appends that
   *     arrive during an fsync still share the next one)
   * @param maxEntryBytes largest entry {@link #append} accepts
   */
  public record Options(long maxSegmentBytes, Duration maxBatchDelay, int maxEntryBytes) {

    public static final long DEFAULT_MAX_SEGMENT_BYTES = 64L << 20;
    public static final int DEFAULT_MAX_ENTRY_BYTES = 4 << 20;

    public Options {
      if (maxSegmentBytes <= 0) {
        throw new IllegalArgumentException("maxSegmentBytes must be > 0, got " + maxSegmentBytes);
      }
      Objects.requireNonNull(maxBatchDelay, "maxBatchDelay");
      if (maxBatchDelay.isNegative() || maxBatchDelay.compareTo(Duration.ofSeconds(1)) > 0) {
        throw new IllegalArgumentException("maxBatchDelay must be between 0 and 1s, got " + maxBatchDelay);
      }
      if (maxEntryBytes < 1 || maxEntryBytes > LogRecord.MAX_PAYLOAD_BYTES) {
        throw new IllegalArgumentException("maxEntryBytes must be between 1 and " + LogRecord.MAX_PAYLOAD_BYTES
            + ", got " + maxEntryBytes);
      }
    }

    /** 64 MiB segments, no batch delay, 4 MiB entries. */
    public static Options defaults() {
      return new Options(DEFAULT_MAX_SEGMENT_BYTES, Duration.ZERO, DEFAULT_MAX_ENTRY_BYTES);
    }

    public Options withMaxSegmentBytes(long value) {
      return new Options(value, maxBatchDelay, maxEntryBytes);
    }

    public Options withMaxBatchDelay(Duration value) {
      return new Options(maxSegmentBytes, value, maxEntryBytes);
    }

    public Options withMaxEntryBytes(int value) {
      return new Options(maxSegmentBytes, maxBatchDelay, value);
    }
  }

  private record Pending(long revision, byte[] payload, ByteBuffer header, CompletableFuture<Void> done,
      long enqueuedNanos) {}

  private static final Logger log = LoggerFactory.getLogger(FileLogStore.class);
  private static final int WRITE_BUFFER_BYTES = 256 << 10;

  private final Path dir;
  private final Options options;
  private final long batchDelayNanos;
  private final Recovered recovered;
  private final FileChannel lockChannel;
  // Held for the store's lifetime; released when the writer closes lockChannel on exit.
  private final FileLock dirLock;
  // Mutated by the writer (adds on roll) and by snapshot() (removes all but the last); read by the gauge.
  private final ConcurrentSkipListMap<Long, Path> segments;

  private final MeterRegistry meters;
  private final List<Meter> registered = new ArrayList<>();
  private final Timer fsyncTimer;
  private final DistributionSummary batchSize;
  private final Counter appendedBytes;
  private final Counter writeErrors;
  private final Timer snapshotTimer;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition wakeWriter = lock.newCondition();
  // @GuardedBy("lock"): accepted appends not yet taken by the writer, in revision order
  private List<Pending> queue = new ArrayList<>();
  // @GuardedBy("lock")
  private long nextRevision;
  // @GuardedBy("lock")
  private boolean closing;
  // @GuardedBy("lock"): the I/O error that stopped appends, set once by the writer
  private StoreException failure;
  // Written by the writer before it completes the futures of the entries it made durable.
  private volatile long durableRevision;

  private final Thread writer;
  // Owned by the writer thread (handed over before it starts).
  private FileChannel active;
  private Path activePath;
  private long activeSize; // bytes in the active segment, buffered ones included
  private long flushedSize; // bytes handed to the channel
  private int batchForced; // entries of the current batch known durable
  private final ByteBuffer out = ByteBuffer.allocateDirect(WRITE_BUFFER_BYTES);

  private final ReentrantLock snapshotLock = new ReentrantLock();
  // @GuardedBy("snapshotLock")
  private long snapshotRevision;
  // @GuardedBy("snapshotLock")
  private Path snapshotFile;

  private FileLogStore(Path dir, Options options, MeterRegistry meters, Recovery.Outcome outcome,
      FileChannel lockChannel, FileLock dirLock, FileChannel active) throws IOException {
    this.dir = dir;
    this.options = options;
    this.batchDelayNanos = options.maxBatchDelay().toNanos();
    this.recovered = outcome.recovered();
    this.lockChannel = lockChannel;
    this.dirLock = dirLock;
    this.segments = new ConcurrentSkipListMap<>(outcome.segments());
    this.nextRevision = outcome.nextRevision();
    this.durableRevision = outcome.nextRevision() - 1;
    this.snapshotRevision = recovered.snapshot() == null ? 0 : recovered.snapshot().revision();
    this.snapshotFile = outcome.snapshotFile();
    this.active = active;
    if (active != null) {
      this.activePath = segments.lastEntry().getValue();
      this.activeSize = active.size();
      this.flushedSize = activeSize;
      active.position(activeSize);
    }

    this.meters = meters;
    this.fsyncTimer = register(Timer.builder("meshwire.hub.store.fsync")
        .description("Time to fsync a log segment after writing a batch of appends")
        .publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofNanos(10_000))
        .maximumExpectedValue(Duration.ofSeconds(10))
        .register(meters));
    this.batchSize = register(DistributionSummary.builder("meshwire.hub.store.batch.size")
        .description("Entries written by the store writer in one batch (one fsync unless a segment rolled)")
        .register(meters));
    this.appendedBytes = register(Counter.builder("meshwire.hub.store.appended.bytes")
        .baseUnit(BaseUnits.BYTES)
        .description("Bytes made durable in log segments, record headers included")
        .register(meters));
    this.writeErrors = register(Counter.builder("meshwire.hub.store.write.errors")
        .description("I/O errors that stopped the store from accepting appends")
        .register(meters));
    this.snapshotTimer = register(Timer.builder("meshwire.hub.store.snapshot")
        .description("Time to write a snapshot durably and drop the log segments it covers")
        .register(meters));
    register(Gauge.builder("meshwire.hub.store.segments", segments, Map::size)
        .description("Log segment files in the store directory")
        .register(meters));

    this.writer = Thread.ofPlatform().name("hub-store-writer").daemon(true).unstarted(this::runWriter);
  }

  /**
   * Opens (creating if needed) the store in {@code dataDir} and recovers what it holds.
   *
   * @throws StoreException if the directory is in use by another open store, cannot be read or
   *     written, or holds damage other than a torn tail
   */
  public static FileLogStore open(Path dataDir, Options options, MeterRegistry meters) throws StoreException {
    Objects.requireNonNull(dataDir, "dataDir");
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(meters, "meters");
    try {
      if (!Files.isDirectory(dataDir)) {
        // Only a directory we create gets owner-only access; an existing one is the operator's.
        if (dataDir.getFileSystem().supportedFileAttributeViews().contains("posix")) {
          Files.createDirectories(dataDir,
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } else {
          Files.createDirectories(dataDir);
        }
      }
    } catch (IOException e) {
      throw new StoreException(dataDir, "cannot create the store directory: " + e, e);
    }
    Path lockFile = dataDir.resolve(StoreFiles.LOCK);
    FileChannel lockChannel;
    try {
      lockChannel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    } catch (IOException e) {
      throw new StoreException(lockFile, "cannot open the lock file: " + e, e);
    }
    FileChannel active = null;
    try {
      FileLock dirLock;
      try {
        dirLock = lockChannel.tryLock();
      } catch (OverlappingFileLockException e) {
        dirLock = null; // held by another store in this JVM
      } catch (IOException e) {
        throw new StoreException(lockFile, "cannot lock the store directory: " + e, e);
      }
      if (dirLock == null) {
        throw new StoreException(lockFile, "the store directory is already open (in this or another process)");
      }
      Recovery.Outcome outcome = Recovery.run(dataDir);
      if (!outcome.segments().isEmpty()) {
        Path last = outcome.segments().lastEntry().getValue();
        try {
          active = FileChannel.open(last, StandardOpenOption.WRITE);
        } catch (IOException e) {
          throw new StoreException(last, "cannot open the last log segment for appends: " + e, e);
        }
      }
      FileLogStore store;
      try {
        store = new FileLogStore(dataDir, options, meters, outcome, lockChannel, dirLock, active);
      } catch (IOException e) {
        throw new StoreException(outcome.segments().lastEntry().getValue(), "cannot open the last log segment for appends: "
            + e, e);
      }
      store.writer.start();
      Recovered recovered = store.recovered;
      log.info("store opened dir={} mesh_uid={} snapshot_revision={} entries={} next_revision={} segments={}"
              + " torn_bytes={}", dataDir, recovered.meshUid(), store.snapshotRevision, recovered.entries().size(),
          outcome.nextRevision(), outcome.segments().size(), recovered.report().bytesDroppedFromTornTail());
      return store;
    } catch (StoreException | RuntimeException | Error e) {
      closeQuietly(active);
      closeQuietly(lockChannel); // releases the lock too
      throw e;
    }
  }

  @Override
  public Recovered recovered() {
    return recovered;
  }

  /** The newest revision acknowledged as durable (at open: the last one recovered). */
  public long durableRevision() {
    return durableRevision;
  }

  public Path dataDir() {
    return dir;
  }

  @Override
  public CompletableFuture<Void> append(long revision, byte[] entry) {
    Objects.requireNonNull(entry, "entry");
    if (entry.length > options.maxEntryBytes()) {
      throw new IllegalArgumentException("entry at revision " + revision + " is " + entry.length
          + " bytes, over maxEntryBytes " + options.maxEntryBytes());
    }
    // The CRC is computed here, on the appender's thread, to keep the writer's path short.
    ByteBuffer header = LogRecord.header(revision, entry);
    CompletableFuture<Void> done = new CompletableFuture<>();
    lock.lock();
    try {
      if (closing) {
        throw new IllegalStateException("store is closed: " + dir);
      }
      if (failure != null) {
        return CompletableFuture.failedFuture(refusal(failure, revision));
      }
      if (revision != nextRevision) {
        throw new IllegalStateException("append at revision " + revision + " but the next revision must be "
            + nextRevision);
      }
      nextRevision++;
      queue.add(new Pending(revision, entry, header, done, System.nanoTime()));
      if (queue.size() == 1) {
        wakeWriter.signal();
      }
    } finally {
      lock.unlock();
    }
    return done;
  }

  @Override
  public void snapshot(long revision, byte[] state) throws StoreException {
    Objects.requireNonNull(state, "state");
    if (revision < 1) {
      throw new IllegalArgumentException("snapshot revision must be >= 1, got " + revision);
    }
    snapshotLock.lock();
    try {
      if (isClosing()) {
        throw new IllegalStateException("store is closed: " + dir);
      }
      long durable = durableRevision;
      if (revision > durable) {
        throw new IllegalStateException("snapshot at revision " + revision + " is beyond the durable revision "
            + durable);
      }
      if (revision < snapshotRevision) {
        throw new IllegalStateException("snapshot at revision " + revision
            + " is older than the stored snapshot at revision " + snapshotRevision);
      }
      long started = System.nanoTime();
      Path file = dir.resolve(StoreFiles.snapshotName(revision));
      try {
        SnapshotFile.write(file, revision, state);
      } catch (IOException e) {
        throw new StoreException(file, "cannot write the snapshot: " + e, e);
      }
      // The new snapshot is durable: everything it covers may go.
      Path previous = snapshotFile;
      snapshotFile = file;
      snapshotRevision = revision;
      if (previous != null && !previous.equals(file)) {
        deleteQuietly(previous);
      }
      int dropped = dropSegmentsThrough(revision);
      snapshotTimer.record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
      log.debug("store snapshot written file={} revision={} bytes={} segments_dropped={}",
          file, revision, state.length, dropped);
    } finally {
      snapshotLock.unlock();
    }
  }

  @Override
  public void close() {
    // Taking snapshotLock first lets a snapshot in progress finish before the files close.
    snapshotLock.lock();
    try {
      lock.lock();
      try {
        closing = true;
        wakeWriter.signal();
      } finally {
        lock.unlock();
      }
    } finally {
      snapshotLock.unlock();
    }
    if (Thread.currentThread() == writer) {
      return; // called from a completion stage: the writer finishes the queue, then cleans up
    }
    boolean interrupted = false;
    while (writer.isAlive()) {
      try {
        writer.join();
      } catch (InterruptedException e) {
        // Returning early would release the directory while the writer still writes to it.
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private boolean isClosing() {
    lock.lock();
    try {
      return closing;
    } finally {
      lock.unlock();
    }
  }

  // ---- writer thread ----

  private void runWriter() {
    try {
      while (true) {
        List<Pending> batch;
        lock.lock();
        try {
          while (queue.isEmpty() && !closing) {
            wakeWriter.awaitUninterruptibly();
          }
          if (queue.isEmpty()) {
            break; // closing, and everything accepted has been written
          }
          if (batchDelayNanos > 0) {
            long deadline = queue.get(0).enqueuedNanos() + batchDelayNanos;
            long left;
            while (!closing && (left = deadline - System.nanoTime()) > 0) {
              try {
                wakeWriter.awaitNanos(left);
              } catch (InterruptedException e) {
                break; // nobody interrupts this thread; if someone does, write now
              }
            }
          }
          batch = queue;
          queue = new ArrayList<>();
        } finally {
          lock.unlock();
        }
        process(batch);
      }
    } catch (RuntimeException | Error e) {
      // Not expected (process() handles its own failures); never leave appenders waiting.
      StoreException stopped = new StoreException(dir, "store writer stopped: " + e, e);
      List<Pending> orphans;
      lock.lock();
      try {
        if (failure == null) {
          failure = stopped;
        }
        orphans = queue;
        queue = new ArrayList<>();
      } finally {
        lock.unlock();
      }
      log.error("store writer stopped dir={}", dir, e);
      orphans.forEach(p -> p.done().completeExceptionally(refusal(stopped, p.revision())));
    } finally {
      closeQuietly(active);
      active = null;
      closeQuietly(lockChannel);
      registered.forEach(meters::remove);
      log.debug("store closed dir={} durable_revision={}", dir, durableRevision);
    }
  }

  private void process(List<Pending> batch) {
    StoreException earlier;
    lock.lock();
    try {
      earlier = failure;
    } finally {
      lock.unlock();
    }
    if (earlier != null) {
      batch.forEach(p -> p.done().completeExceptionally(refusal(earlier, p.revision())));
      return;
    }
    StoreException failed = null;
    batchForced = 0;
    try {
      writeBatch(batch);
      batchForced = batch.size();
    } catch (StoreException e) {
      failed = e;
    } catch (RuntimeException | Error e) {
      failed = new StoreException(activePath != null ? activePath : dir, flushedSize, "append failed: " + e, e);
    }
    int durable = batchForced;
    long bytes = 0;
    for (int i = 0; i < durable; i++) {
      bytes += LogRecord.HEADER_BYTES + batch.get(i).payload().length;
    }
    if (durable > 0) {
      durableRevision = batch.get(durable - 1).revision();
    }
    batchSize.record(batch.size());
    appendedBytes.increment(bytes);
    if (failed != null) {
      lock.lock();
      try {
        failure = failed;
      } finally {
        lock.unlock();
      }
      writeErrors.increment();
      log.error("store append failed, refusing further appends file={} offset={} first_failed_revision={}"
              + " error=\"{}\"", failed.file(), failed.offset().orElse(-1), batch.get(durable).revision(),
          String.valueOf(failed.getCause()));
    }
    for (int i = 0; i < batch.size(); i++) {
      if (i < durable) {
        batch.get(i).done().complete(null);
      } else {
        batch.get(i).done().completeExceptionally(failed);
      }
    }
  }

  /** Writes and fsyncs the batch; {@link #batchForced} counts the entries durable so far. */
  private void writeBatch(List<Pending> batch) throws StoreException {
    for (int i = 0; i < batch.size(); i++) {
      Pending p = batch.get(i);
      long recordBytes = LogRecord.HEADER_BYTES + (long) p.payload().length;
      if (active == null || (activeSize > 0 && activeSize + recordBytes > options.maxSegmentBytes())) {
        roll(p.revision()); // fsyncs the old segment: the entries before this one are durable
        batchForced = i;
      }
      put(p.header().duplicate());
      put(ByteBuffer.wrap(p.payload()));
      activeSize += recordBytes;
    }
    flushBuffer();
    forceActive();
  }

  private void roll(long firstRevision) throws StoreException {
    if (active != null) {
      flushBuffer();
      forceActive();
      closeQuietly(active);
      active = null;
    }
    Path path = dir.resolve(StoreFiles.segmentName(firstRevision));
    try {
      active = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      activePath = path;
      activeSize = 0;
      flushedSize = 0;
      // The new name must survive a crash before any entry in it is acknowledged.
      StoreFiles.fsyncDirectory(dir);
    } catch (IOException e) {
      throw new StoreException(path, "cannot create log segment: " + e, e);
    }
    segments.put(firstRevision, path);
    log.debug("store segment started file={} first_revision={}", path, firstRevision);
  }

  private void put(ByteBuffer src) throws StoreException {
    if (src.remaining() > out.remaining()) {
      flushBuffer();
      if (src.remaining() > out.capacity()) {
        writeToChannel(src);
        return;
      }
    }
    out.put(src);
  }

  private void flushBuffer() throws StoreException {
    out.flip();
    try {
      writeToChannel(out);
    } finally {
      out.clear();
    }
  }

  private void writeToChannel(ByteBuffer src) throws StoreException {
    try {
      while (src.hasRemaining()) {
        flushedSize += active.write(src);
      }
    } catch (IOException e) {
      throw new StoreException(activePath, flushedSize, "write failed: " + e, e);
    }
  }

  private void forceActive() throws StoreException {
    long started = System.nanoTime();
    try {
      active.force(false);
    } catch (IOException e) {
      throw new StoreException(activePath, flushedSize, "fsync failed: " + e, e);
    }
    fsyncTimer.record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
  }

  // ---- helpers ----

  // @GuardedBy("snapshotLock")
  private int dropSegmentsThrough(long revision) {
    int dropped = 0;
    // A segment ends just before the next starts; the last one (the writer's) is never dropped.
    for (Long first : segments.keySet()) {
      Long next = segments.higherKey(first);
      if (next == null || next - 1 > revision) {
        break;
      }
      deleteQuietly(segments.remove(first));
      dropped++;
    }
    return dropped;
  }

  private static StoreException refusal(StoreException cause, long revision) {
    return new StoreException(cause.file(), cause.offset().orElse(-1),
        "refusing to append revision " + revision + " after an earlier I/O error", cause);
  }

  private <M extends Meter> M register(M meter) {
    registered.add(meter);
    return meter;
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      // Harmless: the next open finds it obsolete and deletes it.
      log.warn("store cannot delete obsolete file={} error=\"{}\"", file, e.toString());
    }
  }

  private static void closeQuietly(FileChannel channel) {
    if (channel == null) {
      return;
    }
    try {
      channel.close();
    } catch (IOException e) {
      log.warn("store cannot close channel error=\"{}\"", e.toString());
    }
  }
}
