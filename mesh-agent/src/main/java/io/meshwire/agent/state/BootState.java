package io.meshwire.agent.state;

import io.meshwire.certs.WireGuardKeyPair;
import java.io.IOException;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code BootState} is what an agent starts from: the persisted state when the file is good, else
 * a fresh state, with the reasons why not. Without usable state the agent must not change a data
 * plane a previous agent left serving ({@link #unusable()}: observe-only until the hub's state
 * arrives), and it keeps that data plane's WireGuard key when one is serving (a new key would cut
 * every tunnel the moment it is set, and announcing it would make peers drop the running one).
 *
 * @param state the state to apply (persisted)
 * @param problem what was wrong with the file, for status: corrupt or refused, and where it went
 * @param unusable why the state is not authoritative (no file, corrupt, refused); empty when it is
 */
public record BootState(AgentState state, Optional<String> problem, Optional<String> unusable) {

  private static final Logger log = LoggerFactory.getLogger(BootState.class);

  /**
   * Loads {@code file}; without a usable one saves a fresh state whose key is {@code runningKey}'s
   * (the private key of this gateway's serving interface) or a new one.
   */
  public static BootState load(StateFile file, Supplier<Optional<String>> runningKey) throws IOException {
    String problem;
    switch (file.load()) {
      case StateFile.Loaded.Found found -> {
        return new BootState(found.state(), Optional.empty(), Optional.empty());
      }
      case StateFile.Loaded.Missing missing -> problem = null;
      case StateFile.Loaded.Corrupt corrupt ->
          problem = "state file corrupt (" + corrupt.problem() + "), moved to " + corrupt.movedTo();
      case StateFile.Loaded.Refused refused ->
          problem = "state file refused (" + refused.problem() + "), moved to " + refused.movedTo();
    }
    Optional<String> serving = runningKey.get();
    String key = serving.orElseGet(() -> WireGuardKeyPair.generate().privateKeyBase64());
    if (serving.isPresent()) {
      log.info("wireguard key kept from the serving interface public_key={} reason=\"no usable state\"",
          WireGuardKeyPair.fromPrivateBase64(key).publicKeyBase64());
    }
    AgentState fresh = file.save(AgentState.initial(key));
    String unusable = problem == null ? "no state file" : problem;
    return new BootState(fresh, Optional.ofNullable(problem), Optional.of(unusable));
  }
}
