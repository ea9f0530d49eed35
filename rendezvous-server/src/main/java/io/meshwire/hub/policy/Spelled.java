package io.meshwire.hub.policy;

import io.meshwire.hub.membership.Rejection;
import io.meshwire.netaddr.Quote;
import java.util.Arrays;
import java.util.stream.Collectors;

/** {@code Spelled} is an enum constant written one way in policy files (Kubernetes' or ours). */
interface Spelled {

  String spelling();

  /** The constant of {@code type} spelled {@code text}; the error names {@code field} and the choices. */
  static <E extends Enum<E> & Spelled> E parse(Class<E> type, String field, String text) throws Rejection {
    for (E e : type.getEnumConstants()) {
      if (e.spelling().equals(text)) {
        return e;
      }
    }
    throw Rejection.invalid(field, Quote.of(text) + " is not one of "
        + Arrays.stream(type.getEnumConstants()).map(Spelled::spelling).collect(Collectors.joining(", ")));
  }
}
