package io.meshwire.agent.reflect;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.agent.peer.PeerCatalogMapper;
import io.meshwire.agent.state.FramedFile;
import io.meshwire.agent.state.StateFile;
import io.meshwire.agent.state.TestStates;
import io.meshwire.netaddr.Cidr;
import io.meshwire.proto.agent.v1.PeerCatalog;
import io.meshwire.proto.agent.v1.PeerCatalogs;
import io.meshwire.reflection.catalog.Catalog;
import io.meshwire.reflection.catalog.CatalogLimits;
import io.meshwire.reflection.catalog.Endpoint;
import io.meshwire.reflection.catalog.ExportedService;
import io.meshwire.reflection.catalog.ServicePort;
import io.meshwire.reflection.catalog.ServiceType;
import io.meshwire.reflection.catalog.TestServices;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The peer catalog file: round trip, mode 0600, every kind of bad file set aside, failed writes leave nothing. */
class PeerCatalogStoreTest {

  private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");
  private static final FramedFile.Format FORMAT = new FramedFile.Format("MWPC", (byte) 1, "test",
      PeerCatalogStore.MAX_BYTES);

  @TempDir
  Path dir;

  private PeerCatalogStore store() {
    return new PeerCatalogStore(dir, CatalogLimits.defaults(), InstantSource.fixed(NOW));
  }

  private Path file() {
    return dir.resolve(PeerCatalogStore.FILE_NAME);
  }

  /** Two peers' catalogs with every field the peer protocol carries. */
  static Map<String, Catalog> catalogs() {
    ExportedService headless = new ExportedService("shop", "db", ServiceType.HEADLESS,
        List.of(ServicePort.of("pg", "TCP", 5432), new ServicePort("metrics", "TCP", 9187, "http")),
        List.of(new Endpoint(List.of(Cidr.parseAddress("10.1.0.7")), false, true, true, "db-0", "zone-a",
            Map.of("pg", 5432, "metrics", 9187)),
            new Endpoint(List.of(Cidr.parseAddress("fd00::7")), true, true, false, "", "", Map.of("pg", 5432))),
        Instant.parse("2026-01-02T03:04:05.123456789Z"));
    Catalog a = Catalog.empty("uid-a").next(List.of(TestServices.web("shop", TestServices.T0, 80,
        TestServices.ep("10.1.0.5", 8080), TestServices.ep("10.1.0.6", 8080)), headless));
    Catalog b = new Catalog("uid-b", 4711, List.of(TestServices.service("blog", "api", TestServices.ep("10.2.0.9", 80))));
    return Map.of("a", a, "b", b);
  }

  @Test
  void savedCatalogsLoadBackWithRevisionUidAndEveryField() throws IOException {
    store().save(catalogs());

    PeerCatalogStore.Loaded.Found found = assertInstanceOf(PeerCatalogStore.Loaded.Found.class, store().load());

    assertEquals(catalogs(), found.catalogs());
    assertEquals("uid-b", found.catalogs().get("b").catalogUid());
    assertEquals(4711, found.catalogs().get("b").revision());
    assertEquals(NOW, found.writtenAt());
  }

  @Test
  void noCatalogsIsAnEmptyFileNotAMissingOne() throws IOException {
    store().save(Map.of());

    assertEquals(Map.of(), assertInstanceOf(PeerCatalogStore.Loaded.Found.class, store().load()).catalogs());
  }

  @Test
  void missingFileIsMissing() throws IOException {
    assertInstanceOf(PeerCatalogStore.Loaded.Missing.class, store().load());
  }

  @Test
  void fileIsOwnerOnlyEvenOverAWorldReadableOne() throws IOException {
    Files.writeString(file(), "old");
    Files.setPosixFilePermissions(file(), PosixFilePermissions.fromString("rw-r--r--"));

    store().save(catalogs());

    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file())));
  }

  @Test
  void laterSaveReplacesTheEarlierOneAndLeavesNoTemporaryFile() throws IOException {
    store().save(catalogs());
    Catalog newer = catalogs().get("a").next(List.of());

    store().save(Map.of("a", newer));

    assertEquals(Map.of("a", newer), assertInstanceOf(PeerCatalogStore.Loaded.Found.class, store().load()).catalogs());
    assertEquals(List.of(PeerCatalogStore.FILE_NAME), names());
  }

  static Stream<Arguments> badFiles() {
    return Stream.of(
        Arguments.of("flipped payload byte", (UnaryOperator<byte[]>) b -> flip(b, b.length - 3), "checksum",
            "checksum mismatch"),
        Arguments.of("truncated payload", (UnaryOperator<byte[]>) b -> Arrays.copyOf(b, b.length - 5), "length",
            "does not match the file"),
        Arguments.of("truncated header", (UnaryOperator<byte[]>) b -> Arrays.copyOf(b, 7), "header",
            "file is 7 bytes, shorter than its 13-byte header"),
        Arguments.of("empty file", (UnaryOperator<byte[]>) b -> new byte[0], "header", "file is 0 bytes"),
        Arguments.of("bad magic", (UnaryOperator<byte[]>) b -> set(b, 0, 'X'), "magic",
            "not a meshwire peer catalog file (bad magic)"),
        Arguments.of("unknown version", (UnaryOperator<byte[]>) b -> set(b, 4, 2), "version",
            "format version 2 is not supported (expected 1)"),
        Arguments.of("length beyond the limit", (UnaryOperator<byte[]>) b -> set(b, 5, 0x7f), "length",
            "exceeds the limit of " + PeerCatalogStore.MAX_BYTES),
        Arguments.of("checksummed garbage", (UnaryOperator<byte[]>) b -> FramedFile.frame(FORMAT, new byte[] {(byte) 0xff, 1}),
            "decode", "payload does not decode"),
        Arguments.of("checksummed bad address", (UnaryOperator<byte[]>) b -> FramedFile.frame(FORMAT, withBadAddress()),
            "decode", "peers[0] (a): full.services[0].endpoints[0].addresses[0]"),
        Arguments.of("checksummed peer twice", (UnaryOperator<byte[]>) b -> FramedFile.frame(FORMAT, twice()),
            "decode", "peers[1] (a): cluster appears twice"),
        Arguments.of("checksummed peer without a name", (UnaryOperator<byte[]>) b -> FramedFile.frame(FORMAT, nameless()),
            "decode", "peers[0].cluster_id: empty"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badFiles")
  void badFileIsMovedAsideWithItsBytesAndNeverApplied(String name, UnaryOperator<byte[]> damage, String reason,
      String problem) throws IOException {
    store().save(catalogs());
    byte[] damaged = damage.apply(Files.readAllBytes(file()));
    Files.write(file(), damaged);

    PeerCatalogStore.Loaded.Corrupt corrupt = assertInstanceOf(PeerCatalogStore.Loaded.Corrupt.class, store().load());

    assertEquals(reason, corrupt.reason());
    assertTrue(corrupt.problem().contains(problem), () -> "problem: " + corrupt.problem());
    assertEquals(dir, corrupt.movedTo().getParent());
    assertNotEquals(file(), corrupt.movedTo());
    assertArrayEquals(damaged, Files.readAllBytes(corrupt.movedTo()), "the original bytes are kept for diagnosis");
    assertInstanceOf(PeerCatalogStore.Loaded.Missing.class, store().load(), "a bad file is never loaded again");
  }

  @Test
  void theAgentStateFileInItsPlaceIsRefusedByItsMagic() throws IOException {
    new StateFile(file(), InstantSource.fixed(NOW)).save(TestStates.state("m", 1));

    PeerCatalogStore.Loaded.Corrupt corrupt = assertInstanceOf(PeerCatalogStore.Loaded.Corrupt.class, store().load());

    assertEquals("magic", corrupt.reason());
  }

  @Test
  void aStoredCatalogBeyondTheLimitsIsRefusedWhole() throws IOException {
    store().save(catalogs()); // a holds 2 services
    PeerCatalogStore strict = new PeerCatalogStore(dir, new CatalogLimits(1, 100, 1000, 100), InstantSource.fixed(NOW));

    PeerCatalogStore.Loaded.Corrupt corrupt = assertInstanceOf(PeerCatalogStore.Loaded.Corrupt.class, strict.load());

    assertEquals("limits", corrupt.reason());
    assertTrue(corrupt.problem().startsWith("peers[0] (a): 1 problem(s), first: services: 2 exceed 1"), corrupt.problem());
  }

  @Test
  void anOversizedFileIsRefused() throws IOException {
    store().save(catalogs());
    PeerCatalogStore small = new PeerCatalogStore(dir, CatalogLimits.defaults(), InstantSource.fixed(NOW), 64);

    PeerCatalogStore.Loaded.Corrupt corrupt = assertInstanceOf(PeerCatalogStore.Loaded.Corrupt.class, small.load());

    assertEquals("length", corrupt.reason());
    assertTrue(corrupt.problem().contains("exceeds the limit of 64 bytes"), corrupt.problem());
  }

  @Test
  void aSaveBeyondTheSizeLimitFailsAndKeepsThePreviousFile() throws IOException {
    store().save(Map.of("b", catalogs().get("b")));
    byte[] before = Files.readAllBytes(file());
    PeerCatalogStore small = new PeerCatalogStore(dir, CatalogLimits.defaults(), InstantSource.fixed(NOW),
        before.length - FramedFile.HEADER);

    PeerCatalogStore.TooLarge e = assertThrows(PeerCatalogStore.TooLarge.class, () -> small.save(catalogs()));

    assertTrue(e.getMessage().contains("exceeds the limit"), e.getMessage());
    assertArrayEquals(before, Files.readAllBytes(file()));
    assertEquals(List.of(PeerCatalogStore.FILE_NAME), names(), "no partial or temporary file");
  }

  @Test
  void aFailedWriteLeavesNoPartialFile() throws IOException {
    // The rename cannot replace a non-empty directory: the write fails after the temporary file is complete.
    Files.createDirectories(file().resolve("in-the-way"));

    assertThrows(IOException.class, () -> store().save(catalogs()));

    assertEquals(List.of(PeerCatalogStore.FILE_NAME), names(), "only what was there: no temporary file");
    assertTrue(Files.isDirectory(file()));
  }

  @Test
  void catalogsSavedAfterABadFileLoad() throws IOException {
    Files.writeString(file(), "garbage");
    assertInstanceOf(PeerCatalogStore.Loaded.Corrupt.class, store().load());

    store().save(catalogs());

    assertEquals(catalogs(), assertInstanceOf(PeerCatalogStore.Loaded.Found.class, store().load()).catalogs());
  }

  private List<String> names() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  private static byte[] flip(byte[] b, int index) {
    byte[] out = b.clone();
    out[index] ^= 0x01;
    return out;
  }

  private static byte[] set(byte[] b, int index, int value) {
    byte[] out = b.clone();
    out[index] = (byte) value;
    return out;
  }

  private static PeerCatalog entry(String cluster, Catalog catalog) {
    return PeerCatalog.newBuilder().setClusterId(cluster).setRevision(catalog.revision())
        .setCatalog(PeerCatalogMapper.full(catalog).getFull()).build();
  }

  private static byte[] withBadAddress() {
    PeerCatalog a = entry("a", catalogs().get("a"));
    var full = a.getCatalog().toBuilder();
    full.setServices(0, full.getServices(0).toBuilder().setEndpoints(0,
        full.getServices(0).getEndpoints(0).toBuilder().setAddresses(0, "10.1.0.300")));
    return PeerCatalogs.newBuilder().addPeers(a.toBuilder().setCatalog(full)).build().toByteArray();
  }

  private static byte[] twice() {
    return PeerCatalogs.newBuilder().addPeers(entry("a", catalogs().get("a"))).addPeers(entry("a", catalogs().get("b")))
        .build().toByteArray();
  }

  private static byte[] nameless() {
    return PeerCatalogs.newBuilder().addPeers(entry("", catalogs().get("a"))).build().toByteArray();
  }
}
