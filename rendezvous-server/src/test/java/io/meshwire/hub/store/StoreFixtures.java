package io.meshwire.hub.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** {@code StoreFixtures}: helpers shared by the store tests. Stateless; thread-safe. */
final class StoreFixtures {

  /** Every payload made by {@link #payload} is this long, so every record is {@link #RECORD} bytes. */
  static final int PAYLOAD = 16;
  static final int RECORD = LogRecord.HEADER_BYTES + PAYLOAD;

  private StoreFixtures() {}

  /** A deterministic 16-byte payload for {@code revision}. */
  static byte[] payload(long revision) {
    return String.format("entry-%010d", revision).getBytes(StandardCharsets.US_ASCII);
  }

  static FileLogStore open(Path dir) throws StoreException {
    return FileLogStore.open(dir, FileLogStore.Options.defaults(), new SimpleMeterRegistry());
  }

  static FileLogStore open(Path dir, FileLogStore.Options options) throws StoreException {
    return FileLogStore.open(dir, options, new SimpleMeterRegistry());
  }

  /** Appends {@code from..to} with {@link #payload} and waits until all are durable. */
  static void appendAll(MembershipStore store, long from, long to) throws Exception {
    List<CompletableFuture<Void>> futures = new ArrayList<>();
    for (long r = from; r <= to; r++) {
      futures.add(store.append(r, payload(r)));
    }
    CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
  }

  /** The entries {@code from..to} as {@link #appendAll} wrote them. */
  static List<Entry> entries(long from, long to) {
    List<Entry> entries = new ArrayList<>();
    for (long r = from; r <= to; r++) {
      entries.add(new Entry(r, payload(r)));
    }
    return entries;
  }

  static Path segment(Path dir, long firstRevision) {
    return dir.resolve(StoreFiles.segmentName(firstRevision));
  }

  /** File names in {@code dir} that match {@code glob}, sorted. */
  static List<String> files(Path dir, String glob) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString())
          .filter(n -> dir.getFileSystem().getPathMatcher("glob:" + glob).matches(Path.of(n)))
          .sorted()
          .toList();
    }
  }

  static void assertRevisions(List<Entry> entries, long from, long to) {
    assertEquals(entries(from, to), entries);
  }
}
