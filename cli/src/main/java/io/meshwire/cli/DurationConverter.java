package io.meshwire.cli;

import io.meshwire.netaddr.Durations;
import java.time.Duration;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code DurationConverter} reads the durations operators write ({@code 90d}, {@code 12h},
 * {@code 30m}, {@code 45s}, {@code 500ms}; see {@link Durations}) for picocli options; only
 * positive values are accepted.
 */
public final class DurationConverter implements ITypeConverter<Duration> {

  @Override
  public Duration convert(String value) {
    Duration d;
    try {
      d = Durations.parse(value);
    } catch (IllegalArgumentException e) {
      throw new TypeConversionException(e.getMessage());
    }
    if (d.isZero()) {
      throw new TypeConversionException("'" + value + "' must be positive");
    }
    return d;
  }

  /** Formats {@code d} the way {@link #convert} reads it. */
  public static String format(Duration d) {
    return Durations.format(d);
  }
}
