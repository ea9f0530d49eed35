package io.meshwire.hub.log;

import io.meshwire.hub.store.FileLogStore;
import io.meshwire.hub.wire.ProtoEventCodec;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/** The membership contract on the embedded file store (the default, one hub). */
class MembershipLogContractTest extends MembershipContract {

  @TempDir Path dir;
  private ExecutorService pool;

  @Override
  protected Membership open() throws Exception {
    pool = Executors.newFixedThreadPool(2);
    FileLogStore store = FileLogStore.open(dir, FileLogStore.Options.defaults(), new SimpleMeterRegistry());
    return new MembershipLog(store, new ProtoEventCodec(), InstantSource.system(), new MembershipLog.Options(64, 32),
        pool, pool);
  }

  @AfterEach
  void stopPool() {
    pool.shutdownNow();
  }
}
