package io.meshwire.cli.admin;

import com.google.protobuf.MessageOrBuilder;
import io.meshwire.certs.tls.TlsCredentials;
import io.meshwire.cli.Commands;
import io.meshwire.cli.Main;
import io.meshwire.netaddr.HostPort;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code AdminOptions} is the picocli mixin every admin command shares: which hub to call, with
 * which admin credential, and the output format. It also gives the command its connection and
 * output helpers, so each command only makes its call and lays out the answer.
 */
public final class AdminOptions {

  /** Output formats of {@code -o}. */
  public enum Format {
    TABLE,
    JSON
  }

  @Spec(Spec.Target.MIXEE) private CommandSpec command;

  @Option(names = "--hub", paramLabel = "HOST:PORT", converter = HostPortConverter.class,
      defaultValue = "${env:MESHWIRE_HUB:-127.0.0.1:7443}",
      description = "Hub address (default: $MESHWIRE_HUB, else 127.0.0.1:7443).")
  private HostPort hub;

  @Option(names = "--credentials", paramLabel = "DIR", defaultValue = "${env:MESHWIRE_CREDENTIALS}",
      description = "Directory with the admin credential: admin.crt, admin.key, ca.crt (the hub writes one "
          + "to <data-dir>/admin; default: $MESHWIRE_CREDENTIALS).")
  private Path credentials;

  @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
      description = "Output format: table or json (default: table).")
  private Format output;

  /**
   * Connects to the hub with the admin credential.
   *
   * @throws ParameterException (exit code 2) when no credential directory is given
   */
  public AdminConnection connect() {
    if (credentials == null) {
      throw new ParameterException(command.commandLine(),
          "Missing admin credentials: use --credentials DIR or set MESHWIRE_CREDENTIALS"
              + " (a directory with admin.crt, admin.key and ca.crt, e.g. <hub data-dir>/admin)");
    }
    for (String file : List.of("admin.key", "admin.crt", "ca.crt")) {
      if (!Files.isRegularFile(credentials.resolve(file))) {
        throw new IllegalStateException(credentials.resolve(file) + ": no such file; --credentials is a directory"
            + " with admin.crt, admin.key and ca.crt (the hub writes one to <data-dir>/admin)");
      }
    }
    TlsCredentials creds = TlsCredentials.load(credentials, "admin");
    return AdminConnection.open(hub, creds, Main.of(command).clock());
  }

  /** The hub's address, from {@code --hub}. */
  public HostPort hub() {
    return hub;
  }

  /** Whether {@code -o json} was asked for. */
  public boolean json() {
    return output == Format.JSON;
  }

  /** Where the command's output goes. */
  public PrintWriter out() {
    return Commands.out(command);
  }

  /** "Now" for ages in tables. */
  public Instant now() {
    return Main.of(command).clock().instant();
  }

  /** Prints {@code message} as one JSON document. */
  public void printJson(MessageOrBuilder message) {
    JsonOutput.print(out(), message);
  }

  /** Prints {@code messages} as one JSON document: an array. */
  public void printJson(List<? extends MessageOrBuilder> messages) {
    JsonOutput.printArray(out(), messages);
  }

  /** Reads {@code --hub}: an endpoint {@code host:port}. */
  static final class HostPortConverter implements ITypeConverter<HostPort> {
    @Override
    public HostPort convert(String value) {
      try {
        return HostPort.parse(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }
}
