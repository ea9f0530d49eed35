package io.meshwire.hub.policy;

import io.meshwire.hub.membership.Rejection;
import io.meshwire.netaddr.Quote;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * {@code LabelSyntax} checks cluster labels and selector keys and values against Kubernetes'
 * label syntax: a key is an optional DNS-subdomain prefix (at most 253 characters) and a slash,
 * then a name of 1..63 characters, alphanumeric at both ends with {@code -_.} inside; a value is
 * empty or 1..63 characters of the same shape. Errors name the field. Stateless.
 */
public final class LabelSyntax {

  /** At most this many labels per cluster. */
  public static final int MAX_LABELS = 64;

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?");
  private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");

  private LabelSyntax() {}

  /** Checks one label key, given in {@code field}. */
  public static String key(String field, String key) throws Rejection {
    int slash = key.indexOf('/');
    String name = slash < 0 ? key : key.substring(slash + 1);
    if (slash >= 0) {
      String prefix = key.substring(0, slash);
      if (prefix.isEmpty() || prefix.length() > 253 || !isDnsSubdomain(prefix)) {
        throw Rejection.invalid(field, Quote.of(key) + " has a prefix that is not a DNS subdomain of at most 253 "
            + "characters (lower-case alphanumerics, '-' and '.')");
      }
    }
    if (name.isEmpty() || name.length() > 63 || !NAME.matcher(name).matches()) {
      throw Rejection.invalid(field, Quote.of(key) + " is not a valid label key: the name part must be 1..63 "
          + "characters, alphanumeric at both ends, with '-', '_' or '.' inside");
    }
    return key;
  }

  /** Checks one label value, given in {@code field}. */
  public static String value(String field, String value) throws Rejection {
    if (!value.isEmpty() && (value.length() > 63 || !NAME.matcher(value).matches())) {
      throw Rejection.invalid(field, Quote.of(value) + " is not a valid label value: empty, or 1..63 characters,"
          + " alphanumeric at both ends, with '-', '_' or '.' inside");
    }
    return value;
  }

  /** Checks a whole label map given in {@code field}; returns it sorted and immutable. */
  public static Map<String, String> labels(String field, Map<String, String> labels) throws Rejection {
    if (labels.size() > MAX_LABELS) {
      throw Rejection.invalid(field, labels.size() + " labels, at most " + MAX_LABELS);
    }
    Map<String, String> out = new TreeMap<>();
    for (Map.Entry<String, String> e : labels.entrySet()) {
      key(field + " key", e.getKey());
      value(field + "[" + e.getKey() + "]", e.getValue());
      out.put(e.getKey(), e.getValue());
    }
    return java.util.Collections.unmodifiableMap(out);
  }

  private static boolean isDnsSubdomain(String s) {
    for (String part : s.split("\\.", -1)) {
      if (!DNS_LABEL.matcher(part).matches()) {
        return false;
      }
    }
    return true;
  }
}
