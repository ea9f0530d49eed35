package io.meshwire.cli.ca;

import io.meshwire.certs.Role;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** {@code RoleConverter} reads a {@link Role} by its path segment ({@code cluster}, {@code hub}, {@code admin}). */
public final class RoleConverter implements ITypeConverter<Role> {

  @Override
  public Role convert(String value) {
    try {
      return Role.fromPathSegment(value.toLowerCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new TypeConversionException("'" + value + "': expected one of cluster, hub, admin");
    }
  }

  /** The values shown in help and offered by shell completion. */
  public static final class Candidates implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
      return Arrays.stream(Role.values()).map(Role::pathSegment).iterator();
    }
  }
}
