package io.meshwire.agent.state;

import static io.meshwire.agent.state.TestStates.key;
import static io.meshwire.agent.state.TestStates.peer;
import static io.meshwire.agent.state.TestStates.view;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.agent.wire.AgentProtoMapper;
import io.meshwire.netaddr.Cidr;
import io.meshwire.netaddr.HostPort;
import io.meshwire.proto.rendezvous.v1.ClusterRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The state file: round trip, mode 0600, atomic replace, and every kind of corruption set aside. */
class StateFileTest {

  private static final Instant NOW = Instant.parse("2025-06-01T12:00:00.123456789Z");
  private static final int HEADER = 13; // "MWAS", version, length, CRC32C

  @TempDir Path dir;
  private Path path;
  private StateFile file;

  @BeforeEach
  void setUp() {
    path = dir.resolve("state.bin");
    file = new StateFile(path, InstantSource.fixed(NOW));
  }

  /** A state using every field: IPv6 and DNS endpoints, a peer without peer channel, views both ways. */
  private static AgentState everyField() {
    PeerRecord west = peer("west", 2, 7, 40);
    PeerRecord north = new PeerRecord("north", key(3), 51999,
        List.of(new HostPort("gw.north.example", 51999), new HostPort("fd00::3", 51820)),
        List.of(Cidr.parse("10.3.0.0/16"), Cidr.parse("fd00:3::/64")), List.of(), Optional.empty(),
        Map.of(), 2, 41);
    return new AgentState("mesh-uid-1", 42, 9, key(0x77), TestStates.byId(west, north),
        Map.of("west", view("west", "east", "10.1.0.0/16", "100.64.0.0/16")),
        Map.of("north", view("east", "north", "10.3.0.0/16", "100.65.0.0/16")), Instant.EPOCH);
  }

  @Test
  void savedStateLoadsBackWithEveryField() throws IOException {
    AgentState saved = file.save(everyField());

    assertEquals(NOW, saved.writtenAt());
    StateFile.Loaded loaded = file.load();
    AgentState back = assertInstanceOf(StateFile.Loaded.Found.class, loaded).state();
    assertEquals(saved, back);
    assertEquals(everyField().writtenAt(NOW), back);
    assertEquals(Cidr.parse("100.65.0.0/16"), back.myViews().get("north").seenAs(Cidr.parse("10.3.0.0/16")));
  }

  @Test
  void temporaryFilesLeftByAKilledRewriteAreRemovedAtLoad() throws IOException {
    AgentState saved = file.save(everyField());
    Path ownTemp = dir.resolve("state.bin.tmp");
    Path catalogTemp = dir.resolve(".peer-catalogs.bin.tmp-0123456789ab");
    Path keyTemp = dir.resolve(".cluster.key.tmp-abcdefabcdef");
    Files.write(ownTemp, new byte[1000]);
    Files.write(catalogTemp, new byte[1000]);
    Files.write(keyTemp, new byte[10]);
    Path unrelated = dir.resolve("notes.txt");
    Files.writeString(unrelated, "mine");

    AgentState back = assertInstanceOf(StateFile.Loaded.Found.class, file.load()).state();

    assertEquals(saved, back);
    assertFalse(Files.exists(ownTemp));
    assertFalse(Files.exists(catalogTemp));
    assertFalse(Files.exists(keyTemp));
    assertTrue(Files.exists(unrelated));
  }

  @Test
  void fileIsReadableAndWritableByTheOwnerOnly() throws IOException {
    file.save(everyField());

    assertEquals(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE),
        Files.getPosixFilePermissions(path));
  }

  @Test
  void savingOverAWorldReadableFileLeavesItOwnerOnly() throws IOException {
    Files.writeString(path, "old");
    Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-r--r--"));

    file.save(everyField());

    assertEquals(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(path));
  }

  @Test
  void laterSaveReplacesTheEarlierStateAndLeavesNoTemporaryFile() throws IOException {
    file.save(TestStates.state("m", 1, peer("west", 2)));
    file.save(TestStates.state("m", 2, peer("north", 3)));

    AgentState back = assertInstanceOf(StateFile.Loaded.Found.class, file.load()).state();
    assertEquals(2, back.revision());
    assertEquals(Set.of("north"), back.peers().keySet());
    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(List.of(path), files.toList());
    }
  }

  @Test
  void saveReplacesALeftoverTemporaryFileFromACrash() throws IOException {
    Files.writeString(dir.resolve("state.bin.tmp"), "half-written by a crashed agent");

    file.save(everyField());

    assertInstanceOf(StateFile.Loaded.Found.class, file.load());
    assertFalse(Files.exists(dir.resolve("state.bin.tmp")));
  }

  @Test
  void createsTheStateDirectory() throws IOException {
    StateFile nested = new StateFile(dir.resolve("a/b/state.bin"), InstantSource.fixed(NOW));

    nested.save(everyField());

    assertInstanceOf(StateFile.Loaded.Found.class, nested.load());
  }

  @Test
  void saveIntoAnUnusableDirectoryFailsWithoutChangingAnything() throws IOException {
    Files.writeString(dir.resolve("plain-file"), "x");
    StateFile blocked = new StateFile(dir.resolve("plain-file/state.bin"), InstantSource.fixed(NOW));

    assertThrows(IOException.class, () -> blocked.save(everyField()));
    assertEquals("x", Files.readString(dir.resolve("plain-file")));
  }

  @Test
  void missingFileIsMissing() throws IOException {
    assertInstanceOf(StateFile.Loaded.Missing.class, file.load());
  }

  static Stream<Arguments> corruptions() {
    return Stream.of(
        Arguments.of("flipped payload byte", (UnaryOperator<byte[]>) b -> flip(b, b.length - 3), "checksum mismatch"),
        Arguments.of("flipped checksum byte", (UnaryOperator<byte[]>) b -> flip(b, 10), "checksum mismatch"),
        Arguments.of("truncated payload", (UnaryOperator<byte[]>) b -> Arrays.copyOf(b, b.length - 5),
            "does not match the file"),
        Arguments.of("truncated header", (UnaryOperator<byte[]>) b -> Arrays.copyOf(b, 7),
            "file is 7 bytes, shorter than its 13-byte header"),
        Arguments.of("bytes appended", (UnaryOperator<byte[]>) b -> Arrays.copyOf(b, b.length + 1),
            "does not match the file"),
        Arguments.of("bad magic", (UnaryOperator<byte[]>) b -> set(b, 0, 'X'), "bad magic"),
        Arguments.of("wrong version", (UnaryOperator<byte[]>) b -> set(b, 4, 2),
            "format version 2 is not supported (expected 1)"),
        Arguments.of("empty file", (UnaryOperator<byte[]>) b -> new byte[0],
            "file is 0 bytes, shorter than its 13-byte header"),
        Arguments.of("checksummed garbage", (UnaryOperator<byte[]>) b -> framed(new byte[] {(byte) 0xff, 1, 2}),
            "payload does not decode"),
        Arguments.of("checksummed record with a 31-byte key", (UnaryOperator<byte[]>) b -> framed(withShortKey()),
            "payload does not decode: record west: wireguard_public_key: must be 32 bytes, got 31"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("corruptions")
  void corruptFileIsMovedAsideWithItsBytesAndNeverApplied(String name, UnaryOperator<byte[]> damage,
      String problem) throws IOException {
    file.save(everyField());
    byte[] damaged = damage.apply(Files.readAllBytes(path));
    Files.write(path, damaged);

    StateFile.Loaded loaded = file.load();

    StateFile.Loaded.Corrupt corrupt = assertInstanceOf(StateFile.Loaded.Corrupt.class, loaded);
    assertTrue(corrupt.problem().contains(problem), () -> "problem: " + corrupt.problem());
    assertEquals(dir, corrupt.movedTo().getParent());
    assertNotEquals(path, corrupt.movedTo());
    assertArrayEquals(damaged, Files.readAllBytes(corrupt.movedTo()), "the original bytes are kept for diagnosis");
    assertFalse(Files.exists(path));
    assertInstanceOf(StateFile.Loaded.Missing.class, file.load(), "a corrupt file is never loaded again");
  }

  @Test
  void twoCorruptFilesInTheSameMillisecondAreBothKept() throws IOException {
    Files.writeString(path, "first");
    Path first = assertInstanceOf(StateFile.Loaded.Corrupt.class, file.load()).movedTo();
    Files.writeString(path, "second");
    Path second = assertInstanceOf(StateFile.Loaded.Corrupt.class, file.load()).movedTo();

    assertNotEquals(first, second);
    assertEquals("first", Files.readString(first));
    assertEquals("second", Files.readString(second));
  }

  @Test
  void stateSavedAfterACorruptOneLoads() throws IOException {
    Files.writeString(path, "garbage");
    assertInstanceOf(StateFile.Loaded.Corrupt.class, file.load());

    file.save(everyField());

    assertInstanceOf(StateFile.Loaded.Found.class, file.load());
  }

  private static byte[] flip(byte[] b, int index) {
    byte[] out = b.clone();
    out[index] ^= 0x01;
    return out;
  }

  private StateFile boundTo(String cluster, String mesh) {
    return new StateFile(path, InstantSource.fixed(NOW), new StateFile.Identity(cluster, mesh));
  }

  @Test
  void stateOfAnotherClusterIsSetAsideAndNeverApplied() throws IOException {
    boundTo("c", "lab.meshwire").save(TestStates.state("m", 5, peer("a", 1), peer("b", 2)));
    byte[] written = Files.readAllBytes(path);

    StateFile.Loaded loaded = boundTo("b", "lab.meshwire").load();

    StateFile.Loaded.Refused refused = assertInstanceOf(StateFile.Loaded.Refused.class, loaded);
    assertEquals("state file belongs to cluster c, this agent is cluster b", refused.problem());
    assertFalse(Files.exists(path));
    assertTrue(refused.movedTo().getFileName().toString().startsWith("state.bin.refused-"), refused.movedTo().toString());
    assertArrayEquals(written, Files.readAllBytes(refused.movedTo()), "kept byte for byte");
  }

  @Test
  void stateOfAnotherMeshIsRefused() throws IOException {
    boundTo("b", "old.meshwire").save(TestStates.state("m", 5, peer("a", 1)));
    StateFile.Loaded.Refused refused = assertInstanceOf(StateFile.Loaded.Refused.class,
        boundTo("b", "new.meshwire").load());
    assertEquals("state file belongs to mesh old.meshwire, this agent's mesh is new.meshwire", refused.problem());
  }

  @Test
  void afterARejoinIntoAnotherTrustDomainTheStateIsSavedAsTheNewMeshsAndLoadsAtTheNextStart() throws IOException {
    boundTo("b", "old.meshwire").save(TestStates.state("m", 5, peer("a", 1)));
    // A restart during the rejoin: the file of the mesh being left loads, later saves are the new mesh's.
    StateFile rejoining = boundTo("b", "");
    assertInstanceOf(StateFile.Loaded.Found.class, rejoining.load());
    rejoining.rebind(new StateFile.Identity("b", "new.meshwire"));
    rejoining.save(TestStates.state("m2", 1, peer("a", 1)));

    StateFile.Loaded next = boundTo("b", "new.meshwire").load();
    assertEquals("m2", assertInstanceOf(StateFile.Loaded.Found.class, next).state().meshUid());
    assertInstanceOf(StateFile.Loaded.Refused.class, boundTo("b", "old.meshwire").load(),
        "the file now belongs to the new mesh");
  }

  @Test
  void aStateWithoutBindingThatListsThisClusterAsAPeerIsRefused() throws IOException {
    new StateFile(path, InstantSource.fixed(NOW)).save(TestStates.state("m", 5, peer("a", 1), peer("b", 2)));
    StateFile.Loaded.Refused refused = assertInstanceOf(StateFile.Loaded.Refused.class, boundTo("b", "x").load());
    assertEquals("state file lists this cluster (b) as its own peer: another cluster's", refused.problem());
  }

  @Test
  void ownStateLoadsAndAnOlderUnboundOneIsAcceptedAndBoundOnTheNextSave() throws IOException {
    AgentState own = TestStates.state("m", 5, peer("a", 1));
    boundTo("b", "lab.meshwire").save(own);
    assertInstanceOf(StateFile.Loaded.Found.class, boundTo("b", "lab.meshwire").load());
    assertInstanceOf(StateFile.Loaded.Found.class, boundTo("b", "").load(), "mesh not known yet: not refused");

    new StateFile(path, InstantSource.fixed(NOW)).save(own); // as an agent before the binding wrote it
    assertInstanceOf(StateFile.Loaded.Found.class, boundTo("b", "lab.meshwire").load());
    boundTo("b", "lab.meshwire").save(own);
    assertInstanceOf(StateFile.Loaded.Refused.class, boundTo("z", "lab.meshwire").load());
  }

  @Test
  void withoutUsableStateTheServingInterfacesKeyIsKeptAndTheStateIsNotAuthoritative() throws IOException {
    Files.write(path, new byte[] {'M', 'W', 'A', 'S', 9});
    BootState corrupt = BootState.load(boundTo("b", "m"), () -> Optional.of(key(0x42)));
    assertEquals(key(0x42), corrupt.state().wireguardPrivateKey());
    assertTrue(corrupt.unusable().orElseThrow().startsWith("state file corrupt ("), corrupt.unusable().toString());
    assertEquals(corrupt.unusable(), corrupt.problem());
    assertEquals(key(0x42), assertInstanceOf(StateFile.Loaded.Found.class, boundTo("b", "m").load()).state()
        .wireguardPrivateKey(), "persisted");

    BootState good = BootState.load(boundTo("b", "m"), () -> Optional.of(key(0x43)));
    assertEquals(Optional.empty(), good.unusable());
    assertEquals(key(0x42), good.state().wireguardPrivateKey());

    Files.delete(path);
    BootState fresh = BootState.load(boundTo("b", "m"), Optional::empty);
    assertEquals(Optional.of("no state file"), fresh.unusable());
    assertEquals(Optional.empty(), fresh.problem());
    assertNotEquals(key(0x42), fresh.state().wireguardPrivateKey(), "a new key when nothing serves");
  }

  private static byte[] set(byte[] b, int index, int value) {
    byte[] out = b.clone();
    out[index] = (byte) value;
    return out;
  }

  /** A payload with a valid header and checksum around it. */
  private static byte[] framed(byte[] payload) {
    CRC32C crc = new CRC32C();
    crc.update(payload);
    return ByteBuffer.allocate(HEADER + payload.length)
        .put(new byte[] {'M', 'W', 'A', 'S', 1})
        .putInt(payload.length)
        .putInt((int) crc.getValue())
        .put(payload)
        .array();
  }

  private static byte[] withShortKey() {
    ClusterRecord west = AgentProtoMapper.toProto(peer("west", 2)).toBuilder()
        .setWireguardPublicKey(com.google.protobuf.ByteString.copyFrom(new byte[31]))
        .build();
    return AgentProtoMapper.toProto(TestStates.state("m", 1)).toBuilder().addPeers(west).build().toByteArray();
  }
}
