package io.meshwire.certs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * {@code DirSnapshot} records every file under a directory (name, content, mode, mtime) so a test
 * can assert a rejected operation wrote nothing: {@code assertEquals(before, DirSnapshot.of(dir))}.
 */
record DirSnapshot(Map<String, String> files) {

  static DirSnapshot of(Path dir) throws IOException {
    Map<String, String> files = new TreeMap<>();
    if (Files.exists(dir)) {
      try (Stream<Path> walk = Files.walk(dir)) {
        for (Path p : walk.filter(Files::isRegularFile).toList()) {
          FileTime mtime = Files.getLastModifiedTime(p);
          files.put(dir.relativize(p).toString(),
              HexFormat.of().formatHex(Files.readAllBytes(p)) + " mode=" + PosixFilePermissions.toString(Files.getPosixFilePermissions(p))
                  + " mtime=" + mtime.toInstant());
        }
      }
    }
    return new DirSnapshot(files);
  }
}
