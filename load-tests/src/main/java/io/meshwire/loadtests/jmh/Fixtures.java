package io.meshwire.loadtests.jmh;

import io.meshwire.hub.log.MembershipLog;
import io.meshwire.hub.membership.ClusterRecord;
import io.meshwire.hub.store.MembershipStore;
import io.meshwire.hub.wire.ProtoEventCodec;
import io.meshwire.hub.wire.ProtoMapper;
import io.meshwire.loadtests.agent.AgentRecords;
import io.meshwire.validation.WireValidator;
import java.time.InstantSource;
import java.util.concurrent.Executor;

/** {@code Fixtures} builds the hub objects the benchmarks share. Stateless. */
final class Fixtures {

  private Fixtures() {}

  /** A domain record of agent {@code index} at {@code generation}, as the hub would validate it. */
  static ClusterRecord record(int index, long generation) {
    return ProtoMapper.fromStored(WireValidator.defaults(), AgentRecords.record(index, generation));
  }

  /** A membership log over {@code store}, completions on {@code notify}, a big enough ring. */
  static MembershipLog log(MembershipStore store, Executor notify) {
    return new MembershipLog(store, new ProtoEventCodec(), InstantSource.system(),
        new MembershipLog.Options(100_000, 100_000), notify, Runnable::run);
  }
}
