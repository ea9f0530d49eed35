package io.meshwire.certs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.certs.TokenRejectedException.Reason;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JoinTokensTest {

  @TempDir Path dir;
  private final FakeClock clock = new FakeClock();
  private Path file;
  private JoinTokens tokens;

  @BeforeEach
  void setUp() {
    file = dir.resolve("hub/join-tokens");
    tokens = JoinTokens.open(file, clock);
  }

  /** Asserts that {@code action} is rejected for {@code reason} and the store file is unchanged. */
  private TokenRejectedException assertRejected(Reason reason, ThrowingRunnable action) throws Exception {
    DirSnapshot before = DirSnapshot.of(dir);
    TokenRejectedException e = assertThrows(TokenRejectedException.class, action::run);
    assertEquals(reason, e.reason(), e.getMessage());
    assertEquals(before, DirSnapshot.of(dir), "store file untouched");
    return e;
  }

  interface ThrowingRunnable {
    void run() throws Exception;
  }

  @Test
  void createsTokenWithPrefixAndIdFromItsHash() throws Exception {
    CreatedToken created = tokens.create("east", Duration.ofHours(1));
    assertTrue(created.token().matches("mwjt_[A-Za-z0-9_-]{43}"), created.token());
    String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
        .digest(created.token().getBytes(StandardCharsets.US_ASCII)));
    assertEquals(hash.substring(0, 16), created.info().tokenId());
    assertEquals(new TokenInfo(hash.substring(0, 16), "east", FakeClock.T0, FakeClock.T0.plus(Duration.ofHours(1)),
        TokenInfo.State.ACTIVE), created.info());
    assertFalse(created.toString().contains(created.token()));
  }

  @Test
  void storesOnlyHashesInAnOwnerOnlyFile() throws Exception {
    CreatedToken created = tokens.create("east", Duration.ofHours(1));
    String content = Files.readString(file);
    assertFalse(content.contains(created.token().substring(5)), "secret is not on disk");
    assertTrue(content.contains(created.info().tokenId()));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
  }

  @Test
  void checkDoesNotConsumeTheToken() throws Exception {
    CreatedToken created = tokens.create("east", Duration.ofHours(1));
    DirSnapshot before = DirSnapshot.of(dir);
    assertEquals(created.info(), tokens.check(created.token()));
    assertEquals(created.info(), tokens.check(created.token()));
    assertEquals(before, DirSnapshot.of(dir));
  }

  @Test
  void redeemMarksTheTokenUsedOnDiskBeforeReturning() throws Exception {
    CreatedToken created = tokens.create("east", Duration.ofHours(1));
    TokenInfo info = tokens.redeem(created.token(), "east");
    assertEquals(TokenInfo.State.USED, info.state());
    JoinTokens reopened = JoinTokens.open(file, clock);
    assertEquals(List.of(info), reopened.list());
    assertRejected(Reason.USED, () -> reopened.redeem(created.token(), "east"));
  }

  @Test
  void rejectsReusedToken() throws Exception {
    CreatedToken created = tokens.create("east", Duration.ofHours(1));
    tokens.redeem(created.token(), "east");
    assertRejected(Reason.USED, () -> tokens.redeem(created.token(), "east"));
    assertRejected(Reason.USED, () -> tokens.check(created.token()));
  }

  @Test
  void rejectsExpiredToken() throws Exception {
    CreatedToken created = tokens.create("east", Duration.ofMinutes(10));
    clock.advance(Duration.ofMinutes(10));
    TokenRejectedException e = assertRejected(Reason.EXPIRED, () -> tokens.redeem(created.token(), "east"));
    assertTrue(e.getMessage().contains(created.info().tokenId()), e.getMessage());
    assertEquals(TokenInfo.State.EXPIRED, tokens.list().get(0).state());
  }

  @Test
  void rejectsRevokedToken() throws Exception {
    CreatedToken created = tokens.create("east", Duration.ofHours(1));
    tokens.revoke(created.info().tokenId());
    assertRejected(Reason.REVOKED, () -> tokens.redeem(created.token(), "east"));
    assertEquals(TokenInfo.State.REVOKED, JoinTokens.open(file, clock).list().get(0).state());
  }

  @Test
  void revokingAnUnknownTokenIdThrowsNoSuchElement() throws Exception {
    tokens.create("east", Duration.ofHours(1));
    DirSnapshot before = DirSnapshot.of(dir);
    var e = assertThrows(NoSuchElementException.class, () -> tokens.revoke("0123456789abcdef"));
    assertTrue(e.getMessage().contains("0123456789abcdef"));
    assertEquals(before, DirSnapshot.of(dir));
  }

  @Test
  void rejectsTamperedTokenAsUnknown() throws Exception {
    String token = tokens.create("east", Duration.ofHours(1)).token();
    char last = token.charAt(token.length() - 1);
    String tampered = token.substring(0, token.length() - 1) + (last == 'A' ? 'B' : 'A');
    TokenRejectedException e = assertRejected(Reason.UNKNOWN, () -> tokens.redeem(tampered, "east"));
    assertFalse(e.getMessage().contains(tampered), "message never echoes a token");
    assertEquals(TokenInfo.State.ACTIVE, tokens.check(token).state());
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "mwjt_", "mwjt_short", "xxxx_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "mwjt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "mwjt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+",
      " mwjt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"})
  void rejectsMalformedToken(String token) throws Exception {
    tokens.create("east", Duration.ofHours(1));
    assertRejected(Reason.MALFORMED, () -> tokens.redeem(token, "east"));
  }

  @Test
  void rejectsRedeemForAnotherClusterWithoutBurningTheToken() throws Exception {
    CreatedToken created = tokens.create("east", Duration.ofHours(1));
    assertRejected(Reason.CLUSTER_MISMATCH, () -> tokens.redeem(created.token(), "west"));
    assertEquals(TokenInfo.State.USED, tokens.redeem(created.token(), "east").state());
  }

  @Test
  void onlyOneOfManyConcurrentRedeemsSucceeds() throws Exception {
    String token = tokens.create("east", Duration.ofHours(1)).token();
    AtomicInteger successes = new AtomicInteger();
    CountDownLatch start = new CountDownLatch(1);
    try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<?>> futures = new java.util.ArrayList<>();
      for (int i = 0; i < 8; i++) {
        futures.add(pool.submit(() -> {
          start.await();
          try {
            tokens.redeem(token, "east");
            successes.incrementAndGet();
          } catch (TokenRejectedException e) {
            assertEquals(Reason.USED, e.reason());
          }
          return null;
        }));
      }
      start.countDown();
      for (Future<?> f : futures) {
        f.get();
      }
    }
    assertEquals(1, successes.get());
  }

  @Test
  void rejectsTtlOutsideOneMinuteToSevenDaysAndInvalidClusterIds() {
    assertThrows(IllegalArgumentException.class, () -> tokens.create("east", Duration.ofSeconds(59)));
    assertThrows(IllegalArgumentException.class, () -> tokens.create("east", Duration.ofDays(7).plusSeconds(1)));
    var e = assertThrows(IllegalArgumentException.class, () -> tokens.create("East_1", Duration.ofHours(1)));
    assertTrue(e.getMessage().startsWith("cluster ID: name \"East_1\""), e.getMessage());
    tokens.create("east", Duration.ofMinutes(1));
    tokens.create("east", Duration.ofDays(7));
    assertFalse(Files.exists(dir.resolve("hub/x")));
  }

  @Test
  void listSurvivesReopeningTheFile() {
    tokens.create("east", Duration.ofHours(1));
    clock.advance(Duration.ofSeconds(1));
    CreatedToken west = tokens.create("west", Duration.ofHours(2));
    tokens.revoke(west.info().tokenId());
    assertEquals(tokens.list(), JoinTokens.open(file, clock).list());
    assertEquals(List.of("east", "west"), tokens.list().stream().map(TokenInfo::clusterId).toList());
  }

  @Test
  void dropsTokensThatExpiredLongerThanTheRetentionAgo() {
    tokens.create("east", Duration.ofHours(1));
    clock.advance(JoinTokens.RETENTION.plus(Duration.ofHours(2)));
    tokens.create("west", Duration.ofHours(1));
    assertEquals(List.of("west"), JoinTokens.open(file, clock).list().stream().map(TokenInfo::clusterId).toList());
  }

  @Test
  void corruptStoreErrorNamesTheFileAndLine() throws Exception {
    tokens.create("east", Duration.ofHours(1));
    Files.writeString(file, "garbage line\n", java.nio.file.StandardOpenOption.APPEND);
    var e = assertThrows(CertificateStoreException.class, () -> JoinTokens.open(file, clock));
    assertEquals(file + ": line 3: expected 5 tab-separated fields, found 1", e.getMessage());
  }
}
