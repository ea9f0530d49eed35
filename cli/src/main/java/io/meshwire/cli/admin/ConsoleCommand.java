package io.meshwire.cli.admin;

import io.meshwire.cli.Main;
import io.meshwire.console.ConsoleConfig;
import io.meshwire.console.ConsoleServer;
import io.meshwire.netaddr.HostPort;
import java.io.PrintWriter;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code ConsoleCommand} is {@code meshwire console}: the live web console, served on this machine
 * only, fed by the hub's admin API with the admin credential (which stays in this process). Prints
 * the URL and opens nothing; runs until interrupted (Ctrl-C).
 */
@Command(
    name = "console",
    description = {
      "Serve a live web console of the mesh on this machine (like kubectl proxy).",
      "Talks to the hub over its admin API with the admin credential, which never reaches the browser, and "
          + "serves the page on a loopback address only: clusters and links as a graph and a matrix, each link's "
          + "handshake age, RTT and bytes, each cluster's endpoints, CIDRs and labels, the audit stream. Updates "
          + "live. Prints the URL (it opens no browser) and runs until Ctrl-C. -o is ignored."
    })
public final class ConsoleCommand implements Runnable {

  @Spec private CommandSpec spec;

  @Mixin private AdminOptions admin;

  @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = ConsoleConfig.DEFAULT_LISTEN,
      description = "Where to serve the page: 127.0.0.1, [::1] or localhost, and a port (0: any free one; "
          + "default: ${DEFAULT-VALUE}).")
  private String listen;

  @Override
  public void run() {
    ConsoleConfig config;
    try {
      config = new ConsoleConfig(HostPort.parseListen(listen), admin.hub().toString(), ConsoleConfig.DEFAULT_POLL);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage().startsWith("--listen") ? e.getMessage()
          : "--listen " + e.getMessage());
    }
    try (AdminConnection hub = admin.connect();
        ConsoleServer console = ConsoleServer.start(config, hub.channel(), Main.of(spec).clock())) {
      PrintWriter out = admin.out();
      out.println("meshwire console: " + console.url() + "  (hub " + config.hub() + "; Ctrl-C stops it)");
      out.flush();
      Thread stop = new Thread(console::close, "console-shutdown");
      Runtime.getRuntime().addShutdownHook(stop);
      try {
        new CountDownLatch(1).await(); // until Ctrl-C (the hook closes the server) or an in-process interrupt
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        try {
          Runtime.getRuntime().removeShutdownHook(stop);
        } catch (IllegalStateException shuttingDown) {
          // the JVM is exiting: the hook runs
        }
      }
    }
  }
}
