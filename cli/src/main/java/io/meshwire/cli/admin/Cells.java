package io.meshwire.cli.admin;

import com.google.protobuf.ProtocolMessageEnum;
import com.google.protobuf.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;

/**
 * {@code Cells} formats values of admin API messages for {@link io.meshwire.cli.Table} cells: a
 * missing value is {@code "-"}, times are UTC to the second, ages are short ({@code 45s}, {@code
 * 12m}, {@code 5h}, {@code 3d}), byte counts binary ({@code 1.5 MiB}). Stateless.
 */
public final class Cells {

  public static final String NONE = "-";

  private Cells() {}

  public static String yesNo(boolean value) {
    return value ? "yes" : "no";
  }

  /** The items joined by commas, or {@code "-"} when there are none. */
  static String list(List<String> items) {
    return items.isEmpty() ? NONE : String.join(",", items);
  }

  static String text(String value) {
    return value.isEmpty() ? NONE : value;
  }

  static Instant instant(Timestamp t) {
    return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
  }

  /** {@code 2026-01-31T12:00:05Z}. */
  static String time(Timestamp t) {
    return instant(t).truncatedTo(ChronoUnit.SECONDS).toString();
  }

  /** How long before {@code now} {@code t} was, e.g. {@code 12s}; a time in the future counts as 0s. */
  static String age(Timestamp t, Instant now) {
    return duration(Duration.between(instant(t), now));
  }

  /** A duration in one unit, chosen so the number stays small: 119s, 2m, 119m, 2h, 47h, 2d. */
  public static String duration(Duration d) {
    long s = Math.max(0, d.toSeconds());
    if (s < 120) {
      return s + "s";
    }
    if (s < 120 * 60) {
      return s / 60 + "m";
    }
    if (s < 48 * 3600) {
      return s / 3600 + "h";
    }
    return s / 86_400 + "d";
  }

  /** Bytes in binary units with one decimal above 1 KiB: {@code 512 B}, {@code 1.5 MiB}. */
  public static String bytes(long n) {
    if (n < 1024) {
      return n + " B";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = n;
    int u = -1;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
  }

  /**
   * The value name without the type prefix proto style guides ask for: {@code
   * JOIN_TOKEN_STATE_USED} is {@code USED}, {@code LINK_STATE_UP} is {@code UP}.
   */
  static String enumValue(ProtocolMessageEnum value) {
    if (value instanceof Enum<?> e && e.name().equals("UNRECOGNIZED")) {
      return "UNKNOWN";
    }
    String name = value.getValueDescriptor().getName();
    String prefix = value.getDescriptorForType().getName().replaceAll("([a-z0-9])([A-Z])", "$1_$2")
        .toUpperCase(Locale.ROOT) + "_";
    return name.startsWith(prefix) ? name.substring(prefix.length()) : name;
  }
}
