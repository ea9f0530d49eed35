package io.meshwire.netlab.lab;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * {@code UnixSocketRelay} makes a TCP server on this JVM's loopback reachable from other network
 * namespaces: it listens on a Unix domain socket (a file, so visible from every namespace that
 * shares the file system) and relays each connection to {@code 127.0.0.1:port}. Inside a namespace,
 * {@code socat TCP-LISTEN:...,fork UNIX-CONNECT:<path>} completes the path. Tests only; one virtual
 * thread per direction of each connection.
 */
final class UnixSocketRelay implements AutoCloseable {

  private final Path path;
  private final int port;
  private final ServerSocketChannel server;
  private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
  private final Set<AutoCloseable> open = ConcurrentHashMap.newKeySet();

  private UnixSocketRelay(Path path, int port) throws IOException {
    this.path = path;
    this.port = port;
    Files.deleteIfExists(path);
    this.server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(path));
    threads.execute(this::acceptLoop);
  }

  /** Listens on {@code path} and relays to {@code 127.0.0.1:port}. */
  public static UnixSocketRelay start(Path path, int port) throws IOException {
    return new UnixSocketRelay(path, port);
  }

  private void acceptLoop() {
    while (server.isOpen()) {
      SocketChannel client;
      try {
        client = server.accept();
      } catch (IOException closed) {
        return;
      }
      threads.execute(() -> relay(client));
    }
  }

  private void relay(SocketChannel client) {
    Socket target = new Socket();
    open.add(client);
    open.add(target);
    try (client; target) {
      target.connect(new InetSocketAddress("127.0.0.1", port), 5000);
      InputStream fromClient = Channels.newInputStream(client);
      OutputStream toTarget = target.getOutputStream();
      threads.execute(() -> pump(fromClient, toTarget, target));
      pump(target.getInputStream(), Channels.newOutputStream(client), client);
    } catch (IOException e) {
      // the connection ends; the client sees it closed, as with any dropped connection
    } finally {
      open.remove(client);
      open.remove(target);
    }
  }

  /** Copies until end of stream, then closes {@code sink} so the other direction ends too. */
  private static void pump(InputStream in, OutputStream out, AutoCloseable sink) {
    try {
      in.transferTo(out);
    } catch (IOException e) {
      // peer gone
    } finally {
      try {
        sink.close();
      } catch (Exception ignored) {
        // already closed
      }
    }
  }

  @Override
  public void close() {
    try {
      server.close();
    } catch (IOException ignored) {
      // closing anyway
    }
    for (AutoCloseable c : open) {
      try {
        c.close();
      } catch (Exception ignored) {
        // closing anyway
      }
    }
    threads.shutdownNow();
    try {
      Files.deleteIfExists(path);
    } catch (IOException ignored) {
      // the work directory goes with the run
    }
  }
}
