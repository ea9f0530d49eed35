package io.meshwire.cli.hub;

import io.meshwire.cli.Commands;
import io.meshwire.hub.repair.StoreRepair;
import io.meshwire.netaddr.AddressPolicy;
import io.meshwire.validation.WireValidator;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code HubRepairCommand} is {@code meshwire hub repair}: quarantines the records of clusters
 * that a hub refuses to start on (see {@link StoreRepair}). The hub names the exact command in its
 * start-up error.
 */
@Command(
    name = "repair",
    description = {
      "Quarantine the records of a cluster that the hub cannot read back, so it starts again.",
      "Run it with the hub stopped. It copies <data-dir>/log to <data-dir>/log.before-repair-<time> first, "
          + "then drops every record and view of the named clusters and writes a snapshot of the rest. "
          + "The dropped cluster's agent announces again when it reconnects."
    })
public final class HubRepairCommand implements Callable<Integer> {

  @Spec private CommandSpec spec;

  @Option(names = "--data-dir", paramLabel = "DIR", required = true, description = "The hub's data directory.")
  private Path dataDir;

  @Option(names = "--drop-cluster", paramLabel = "ID", required = true,
      description = "Cluster whose records to drop; repeatable.")
  private List<String> dropClusters;

  @Option(names = "--max-cidr-prefix", paramLabel = "/V4,/V6", defaultValue = "/8,/32",
      description = "The hub's max-cidr-prefix setting: what is left must pass it (default: ${DEFAULT-VALUE}).")
  private String maxCidrPrefix;

  private final InstantSource clock;

  public HubRepairCommand(InstantSource clock) {
    this.clock = clock;
  }

  public HubRepairCommand() {
    this(InstantSource.system());
  }

  @Override
  public Integer call() throws Exception {
    AddressPolicy policy;
    try {
      policy = AddressPolicy.parse(maxCidrPrefix);
    } catch (IllegalArgumentException e) {
      throw Commands.badValue(spec, "--max-cidr-prefix", e.getMessage());
    }
    for (String id : dropClusters) {
      if (!WireValidator.isClusterId(id)) {
        throw Commands.badValue(spec, "--drop-cluster", io.meshwire.netaddr.Quote.of(id) + " is not a cluster ID");
      }
    }
    StoreRepair.Outcome outcome = StoreRepair.run(dataDir, new LinkedHashSet<>(dropClusters),
        new WireValidator(policy), clock.instant());
    PrintWriter out = Commands.out(spec);
    out.println("dropped " + String.join(", ", outcome.dropped()) + "; kept " + outcome.clustersKept()
        + " clusters and " + outcome.viewsKept() + " views at revision " + outcome.revision()
        + "; the store before the repair is in " + outcome.backup());
    out.flush();
    return 0;
  }
}
