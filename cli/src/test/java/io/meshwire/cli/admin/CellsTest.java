package io.meshwire.cli.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.Timestamp;
import io.meshwire.proto.admin.v1.JoinTokenState;
import io.meshwire.proto.rendezvous.v1.LinkState;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class CellsTest {

  @Test
  void durationsUseOneSmallUnit() {
    assertEquals("0s", Cells.duration(Duration.ofSeconds(-5)));
    assertEquals("119s", Cells.duration(Duration.ofSeconds(119)));
    assertEquals("2m", Cells.duration(Duration.ofSeconds(120)));
    assertEquals("119m", Cells.duration(Duration.ofMinutes(119)));
    assertEquals("2h", Cells.duration(Duration.ofHours(2)));
    assertEquals("47h", Cells.duration(Duration.ofHours(47)));
    assertEquals("2d", Cells.duration(Duration.ofHours(48)));
  }

  @Test
  void ageCountsBackFromNow() {
    Instant now = Instant.parse("2026-01-01T00:01:00Z");
    assertEquals("45s", Cells.age(Timestamp.newBuilder().setSeconds(now.getEpochSecond() - 45).build(), now));
    assertEquals("2026-01-01T00:01:00Z", Cells.time(Timestamp.newBuilder().setSeconds(now.getEpochSecond()).setNanos(5).build()));
  }

  @Test
  void bytesInBinaryUnits() {
    assertEquals("0 B", Cells.bytes(0));
    assertEquals("1023 B", Cells.bytes(1023));
    assertEquals("1.0 KiB", Cells.bytes(1024));
    assertEquals("1.5 MiB", Cells.bytes(3 * 512 * 1024));
    assertEquals("8.0 EiB", Cells.bytes(Long.MAX_VALUE));
  }

  @Test
  void enumValuesLoseTheirTypePrefix() {
    assertEquals("USED", Cells.enumValue(JoinTokenState.JOIN_TOKEN_STATE_USED));
    assertEquals("UP", Cells.enumValue(LinkState.LINK_STATE_UP));
    assertEquals("UNKNOWN", Cells.enumValue(LinkState.UNRECOGNIZED));
  }

  @Test
  void emptyValuesAreADash() {
    assertEquals("-", Cells.list(List.of()));
    assertEquals("a,b", Cells.list(List.of("a", "b")));
    assertEquals("-", Cells.text(""));
  }
}
