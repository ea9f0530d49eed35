package io.meshwire.agent.wireguard;

import io.meshwire.netaddr.HostPort;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code EndpointFile} takes the gateway endpoints from a file that something outside the agent
 * keeps true: behind NAT or a load balancer the address peers dial is not on any local interface,
 * and only the platform knows it (a cloud metadata hook, a controller that writes a LoadBalancer
 * Service's external address, a DHCP hook on the NAT box). The file holds {@code host:port} entries,
 * one per line or comma-separated, {@code #} comments and blank lines ignored; 1..8 entries.
 *
 * <p>Read at start and on every {@link #check}: a change is announced within seconds. Write it
 * atomically (a temporary file renamed over it). A missing, empty or malformed file never takes
 * the announced endpoints away: the last good ones stay (at start, {@code fallback}, the
 * configured {@code --endpoint}), and the problem is logged once at WARN per distinct content.
 *
 * <p>Thread-safe: {@link #check} is called from one timer thread, {@link #endpoints} from any.
 */
public final class EndpointFile implements EndpointSource {

  private static final Logger log = LoggerFactory.getLogger(EndpointFile.class);
  static final int MAX_ENDPOINTS = 8;
  private static final int MAX_BYTES = 4096;

  private final Path file;
  private volatile List<HostPort> current;
  private Read lastRead;

  /**
   * @param fallback announced while the file has no usable content (may be empty)
   * @throws IllegalArgumentException naming the file and the problem when neither the file nor
   *     {@code fallback} gives an endpoint at start
   */
  public EndpointFile(Path file, List<HostPort> fallback) {
    this.file = Objects.requireNonNull(file, "file");
    Read read = read();
    lastRead = read;
    if (read.problem().isEmpty()) {
      current = parse(read.text());
      log.info("gateway endpoints from file file={} endpoints={}", file, current);
      return;
    }
    if (fallback.isEmpty()) {
      throw new IllegalArgumentException("endpoint-from-file: " + file + ": " + read.problem().get()
          + " (write host:port entries into it, or also set endpoint)");
    }
    current = List.copyOf(fallback);
    log.warn("gateway endpoints file not usable yet file={} problem=\"{}\"; announcing endpoint={}", file,
        read.problem().get(), current);
  }

  @Override
  public List<HostPort> endpoints() {
    return current;
  }

  @Override
  public synchronized boolean check() {
    Read read = read();
    if (read.equals(lastRead)) {
      return false;
    }
    lastRead = read;
    if (read.problem().isPresent()) {
      log.warn("gateway endpoints file not usable file={} problem=\"{}\"; still announcing endpoints={}", file,
          read.problem().get(), current);
      return false;
    }
    List<HostPort> next = parse(read.text());
    if (next.equals(current)) {
      return false;
    }
    log.info("gateway endpoints changed file={} from={} to={}; announcing them", file, current, next);
    current = next;
    return true;
  }

  /** The file's text, and what makes it unusable (missing, unreadable, oversized, malformed), if anything. */
  private record Read(String text, Optional<String> problem) {}

  private Read read() {
    try {
      if (Files.size(file) > MAX_BYTES) {
        return new Read("", Optional.of("over " + MAX_BYTES + " bytes"));
      }
      String text = Files.readString(file, StandardCharsets.UTF_8);
      return new Read(text, problem(text));
    } catch (NoSuchFileException e) {
      return new Read("", Optional.of("does not exist"));
    } catch (IOException | RuntimeException e) {
      return new Read("", Optional.of("unreadable: " + e.getMessage()));
    }
  }

  /** What is wrong with {@code content}, or empty when it gives 1..8 endpoints. */
  static Optional<String> problem(String content) {
    List<String> entries = entries(content);
    if (entries.isEmpty()) {
      return Optional.of("no host:port entry");
    }
    if (entries.size() > MAX_ENDPOINTS) {
      return Optional.of(entries.size() + " entries, at most " + MAX_ENDPOINTS);
    }
    for (int i = 0; i < entries.size(); i++) {
      try {
        HostPort.parse(entries.get(i));
      } catch (IllegalArgumentException e) {
        return Optional.of("entry " + (i + 1) + ": " + e.getMessage());
      }
    }
    return Optional.empty();
  }

  private static List<HostPort> parse(String content) {
    return entries(content).stream().map(HostPort::parse).toList();
  }

  private static List<String> entries(String content) {
    List<String> out = new ArrayList<>();
    for (String line : content.split("\n")) {
      int hash = line.indexOf('#');
      String data = hash >= 0 ? line.substring(0, hash) : line;
      for (String part : data.split(",")) {
        if (!part.isBlank()) {
          out.add(part.strip());
        }
      }
    }
    return out;
  }
}
