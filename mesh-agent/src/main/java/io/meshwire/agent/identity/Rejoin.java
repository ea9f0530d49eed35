package io.meshwire.agent.identity;

import io.meshwire.agent.state.AgentState;
import io.meshwire.certs.AtomicFiles;
import io.meshwire.certs.tls.CredentialFiles;
import io.meshwire.certs.tls.TlsCredentials;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code Rejoin} is how a cluster whose hub lost its data (a new CA and mesh) joins the new mesh
 * without dropping its tunnels: {@code meshwire agent rejoin} enrolls with a new join token and
 * {@link #commit}s the new credential set into the state directory with a marker; at its next start
 * the agent {@link #prepare}s (completes a credential swap a crash interrupted, sees the marker),
 * applies its persisted state as always (tunnels up), takes the new hub's state once although its
 * mesh UID differs, and {@link #adopted} removes the marker once the state belongs to the new mesh.
 */
public final class Rejoin {

  /** Marker in the state directory: take the next hub's state even with another mesh UID. */
  public static final String MARKER = "rejoined";

  private static final Logger log = LoggerFactory.getLogger(Rejoin.class);

  private Rejoin() {}

  /**
   * Replaces the cluster's credential set in {@code stateDir} atomically with {@code credentials}
   * and marks the state for adoption of the new mesh. Returns where the previous set was kept.
   */
  public static Path commit(Path stateDir, TlsCredentials credentials) {
    Path previous = CredentialFiles.replace(stateDir, "cluster", credentials);
    try {
      AtomicFiles.write(stateDir.resolve(MARKER), ("rejoined mesh "
          + io.meshwire.certs.MeshCa.meshOf(credentials.trustAnchors().get(0)) + "\n").getBytes(StandardCharsets.UTF_8),
          AtomicFiles.OWNER_ONLY);
    } catch (IOException e) {
      throw new UncheckedIOException(stateDir.resolve(MARKER) + ": cannot write: " + e.getMessage(), e);
    }
    return previous;
  }

  /** At agent start: finishes an interrupted credential swap; returns whether a rejoin is to be adopted. */
  public static boolean prepare(Path stateDir) {
    if (CredentialFiles.completePending(stateDir)) {
      log.info("rejoin: completed the interrupted credential replacement dir={}", stateDir);
    }
    boolean rejoined = Files.exists(stateDir.resolve(MARKER));
    if (rejoined) {
      log.warn("rejoin: this agent re-enrolled with a new hub; it takes that hub's state once, although its mesh"
          + " UID differs from the persisted one dir={}", stateDir);
    }
    return rejoined;
  }

  /** Whether {@code meshwire agent rejoin} marked the state directory and the new mesh is not adopted yet. */
  public static boolean marked(Path stateDir) {
    return Files.exists(stateDir.resolve(MARKER));
  }

  /**
   * Removes the marker once {@code state} belongs to another mesh than {@code meshUidBefore} (the
   * one the agent had when it saw the marker); returns whether the new mesh is adopted.
   */
  public static boolean adopted(Path stateDir, String meshUidBefore, AgentState state) {
    if (state.meshUid().isEmpty() || state.meshUid().equals(meshUidBefore)) {
      return false;
    }
    try {
      if (Files.deleteIfExists(stateDir.resolve(MARKER))) {
        log.info("rejoin: adopted the new mesh mesh_uid={} previous={}", state.meshUid(), meshUidBefore);
      }
    } catch (IOException e) {
      log.warn("rejoin: cannot remove the marker file={} error=\"{}\"", stateDir.resolve(MARKER), e.getMessage());
    }
    return true;
  }
}
