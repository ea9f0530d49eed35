package io.meshwire.netlab.lab;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * {@code FileTrees} copies a directory tree, as an operator mounts one hub replica's CA and admin
 * files into another's data directory (labs, benches and tests start several replicas this way).
 */
public final class FileTrees {

  private FileTrees() {}

  /** Copies everything under {@code from} to {@code to} (created as needed; existing files replaced). */
  public static void copy(Path from, Path to) throws IOException {
    try (var files = Files.walk(from)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        Path target = to.resolve(from.relativize(f).toString());
        if (Files.isDirectory(f)) {
          Files.createDirectories(target);
        } else {
          Files.copy(f, target, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }
}
