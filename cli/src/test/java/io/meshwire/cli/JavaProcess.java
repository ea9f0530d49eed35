package io.meshwire.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** {@code JavaProcess} runs {@code meshwire} in its own JVM (this test JVM's java), as users do. */
final class JavaProcess {

  record Result(int exitCode, String stdout, String stderr) {}

  private JavaProcess() {}

  /** {@code java <launch...> <args...>}, stdin empty; waits at most 60 s. */
  static Result run(List<String> launch, String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(launch);
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
    try {
      CompletableFuture<String> err = new CompletableFuture<>();
      Thread.ofVirtual().start(() -> {
        try {
          err.complete(new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
          err.completeExceptionally(e);
        }
      });
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(p.waitFor(60, TimeUnit.SECONDS), "meshwire " + List.of(args) + " did not exit");
      return new Result(p.exitValue(), out, err.get(10, TimeUnit.SECONDS));
    } finally {
      p.destroyForcibly();
    }
  }
}
