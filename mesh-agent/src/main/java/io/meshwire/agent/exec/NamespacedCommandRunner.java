package io.meshwire.agent.exec;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * {@code NamespacedCommandRunner} runs every command of a delegate {@link CommandRunner} inside a
 * named network namespace by prefixing {@code ip netns exec NS}. It exists for tests and demos
 * where one JVM plays several clusters; in production the agent already runs in its pod's
 * namespace and uses {@link ProcessCommandRunner} directly.
 *
 * <p>{@code ip netns exec} replaces itself with the command ({@code execvp}), so a {@link
 * #startDetached}ed process's PID is the command's own PID and stopping it stops the command. Thread-safe
 * if the delegate is.
 */
public final class NamespacedCommandRunner implements CommandRunner {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]{1,64}");

  private final CommandRunner delegate;
  private final String namespace;

  /**
   * @param delegate the runner that starts {@code ip}
   * @param namespace the name shown by {@code ip netns list}
   */
  public NamespacedCommandRunner(CommandRunner delegate, String namespace) {
    this.delegate = Objects.requireNonNull(delegate, "delegate");
    if (namespace == null || !NAME.matcher(namespace).matches()) {
      throw new IllegalArgumentException(
          "network namespace \"" + namespace + "\": must match " + NAME.pattern());
    }
    this.namespace = namespace;
  }

  /** The namespace commands run in. */
  public String namespace() {
    return namespace;
  }

  @Override
  public Result run(List<String> argv, byte[] stdin, Duration timeout) {
    return delegate.run(prefixed(argv), stdin, timeout);
  }

  @Override
  public Process startDetached(List<String> argv, Path output) {
    return delegate.startDetached(prefixed(argv), output);
  }

  private List<String> prefixed(List<String> argv) {
    List<String> command = new ArrayList<>(argv.size() + 4);
    command.addAll(List.of("ip", "netns", "exec", namespace));
    command.addAll(argv);
    return List.copyOf(command);
  }

  @Override
  public String toString() {
    return "NamespacedCommandRunner[namespace=" + namespace + "]";
  }
}
