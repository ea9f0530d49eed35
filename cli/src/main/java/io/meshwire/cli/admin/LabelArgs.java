package io.meshwire.cli.admin;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code LabelArgs} reads {@code kubectl label} style arguments: {@code key=value} sets a label,
 * {@code key-} removes it. The hub checks the syntax of keys and values.
 */
record LabelArgs(Map<String, String> set, List<String> remove) {

  static LabelArgs parse(List<String> args) {
    Map<String, String> set = new LinkedHashMap<>();
    List<String> remove = new ArrayList<>();
    for (String arg : args) {
      int eq = arg.indexOf('=');
      if (eq > 0) {
        set.put(arg.substring(0, eq), arg.substring(eq + 1));
      } else if (arg.endsWith("-") && arg.length() > 1) {
        remove.add(arg.substring(0, arg.length() - 1));
      } else {
        throw new IllegalArgumentException("label \"" + arg + "\": write key=value to set it or key- to remove it");
      }
    }
    return new LabelArgs(set, remove);
  }
}
