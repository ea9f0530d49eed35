package io.meshwire.hub.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code EtcdLayout} checks, and on an empty prefix creates, the marker keys that say whose data a
 * prefix holds: {@code meta/layout} (the data layout version), {@code meta/mesh} (trust domain),
 * {@code meta/ca-sha256} (the mesh CA's fingerprint) and {@code meta/mesh-uid}. A hub refuses to
 * start on a prefix written by a newer layout, by another mesh or CA, or holding keys that are not
 * meshwire's, and writes nothing then. Stateless.
 */
final class EtcdLayout {

  private static final Logger log = LoggerFactory.getLogger(EtcdLayout.class);

  /**
   * The layout this code reads and writes; a newer one is refused, never guessed at. 1: members,
   * views, tokens, revocations, audit, presence. 2: also the operator's peering rules under
   * {@code members/peering/} (labels, policies, the default), which a layout-1 hub would ignore and
   * so serve every pair as allowed.
   */
  static final int LAYOUT_VERSION = 2;

  private EtcdLayout() {}

  /** Who this replica is: the mesh it serves and its CA's fingerprint. */
  record Identity(String mesh, String caSha256) {}

  /**
   * Checks the prefix's markers against {@code identity}, creating them when the prefix is empty.
   *
   * @return the mesh UID stored under the prefix
   * @throws EtcdStartException naming the problem; nothing was written
   */
  static String openOrCreate(KV kv, String prefix, Identity identity, Duration timeout) {
    for (int attempt = 0; attempt < 3; attempt++) {
      Map<String, String> meta = readMeta(kv, prefix, timeout);
      if (!meta.isEmpty()) {
        String uid = check(prefix, meta, identity);
        if (upgraded(kv, prefix, meta.get("layout"), timeout)) {
          return uid;
        }
        continue; // the marker changed under us (another replica upgraded it): check again
      }
      GetResponse any = EtcdCalls.await(kv.get(bytes(prefix), GetOption.builder().isPrefix(true).withCountOnly(true)
          .build()), timeout, "reading prefix " + prefix);
      if (any.getCount() > 0) {
        throw new EtcdStartException("etcd prefix " + prefix + " holds " + any.getCount()
            + " keys but no meshwire layout marker (" + prefix + "meta/layout): it is not a meshwire hub's data;"
            + " choose another --etcd-prefix");
      }
      String uid = UUID.randomUUID().toString();
      boolean created = EtcdCalls.await(kv.txn()
          .If(new Cmp(bytes(prefix + "meta/layout"), Cmp.Op.EQUAL, CmpTarget.version(0)))
          .Then(Op.put(bytes(prefix + "meta/layout"), bytes(Integer.toString(LAYOUT_VERSION)), PutOption.DEFAULT),
              Op.put(bytes(prefix + "meta/mesh"), bytes(identity.mesh()), PutOption.DEFAULT),
              Op.put(bytes(prefix + "meta/ca-sha256"), bytes(identity.caSha256()), PutOption.DEFAULT),
              Op.put(bytes(prefix + "meta/mesh-uid"), bytes(uid), PutOption.DEFAULT))
          .commit(), timeout, "creating the layout under " + prefix).isSucceeded();
      if (created) {
        log.info("etcd layout created prefix={} mesh={} mesh_uid={} layout={}", prefix, identity.mesh(), uid,
            LAYOUT_VERSION);
        return uid;
      }
      // Another replica created it at the same moment: read and check theirs.
    }
    throw new EtcdStartException("etcd prefix " + prefix + ": layout markers keep changing under us");
  }

  /**
   * Marks a prefix of an older layout as this one (compared against the {@code stored} marker, so a
   * concurrent change is seen): from then on an older hub refuses the prefix instead of ignoring
   * keys it does not know. Older layouts are subsets of this one, so nothing else is rewritten.
   *
   * @return false when the marker changed between the read and the write
   */
  private static boolean upgraded(KV kv, String prefix, String stored, Duration timeout) {
    if (Integer.toString(LAYOUT_VERSION).equals(stored)) {
      return true;
    }
    ByteSequence marker = bytes(prefix + "meta/layout");
    boolean done = EtcdCalls.await(kv.txn()
        .If(new Cmp(marker, Cmp.Op.EQUAL, CmpTarget.value(bytes(stored))))
        .Then(Op.put(marker, bytes(Integer.toString(LAYOUT_VERSION)), PutOption.DEFAULT))
        .commit(), timeout, "upgrading the layout under " + prefix).isSucceeded();
    if (done) {
      log.info("etcd layout upgraded prefix={} from={} to={}", prefix, stored, LAYOUT_VERSION);
    }
    return done;
  }

  private static Map<String, String> readMeta(KV kv, String prefix, Duration timeout) {
    GetResponse r = EtcdCalls.await(kv.get(bytes(prefix + "meta/"), GetOption.builder().isPrefix(true).build()),
        timeout, "reading " + prefix + "meta/");
    Map<String, String> meta = new HashMap<>();
    for (KeyValue kv2 : r.getKvs()) {
      meta.put(kv2.getKey().toString(StandardCharsets.UTF_8).substring(prefix.length() + "meta/".length()),
          kv2.getValue().toString(StandardCharsets.UTF_8));
    }
    return meta;
  }

  private static String check(String prefix, Map<String, String> meta, Identity identity) {
    String layout = meta.get("layout");
    int version;
    try {
      version = Integer.parseInt(String.valueOf(layout));
    } catch (NumberFormatException e) {
      throw new EtcdStartException("etcd prefix " + prefix + ": meta/layout is \"" + quote(layout)
          + "\", not a layout version: refusing to touch data this hub does not understand");
    }
    if (version > LAYOUT_VERSION) {
      throw new EtcdStartException("etcd prefix " + prefix + " holds data layout " + version
          + ", written by a newer meshwire (this hub reads layouts 1 to " + LAYOUT_VERSION
          + "): upgrade the hub; it writes nothing here");
    }
    if (version < 1) {
      throw new EtcdStartException("etcd prefix " + prefix + ": meta/layout " + version + " is not a valid layout");
    }
    String mesh = meta.get("mesh");
    if (!identity.mesh().equals(mesh)) {
      throw new EtcdStartException("etcd prefix " + prefix + " holds the data of mesh \"" + quote(mesh)
          + "\", not of this hub's mesh \"" + identity.mesh() + "\": choose another --etcd-prefix");
    }
    String ca = meta.get("ca-sha256");
    if (!identity.caSha256().equals(ca)) {
      throw new EtcdStartException("etcd prefix " + prefix + " holds the data of a mesh with another CA (sha256 "
          + quote(ca) + ", this hub's CA is " + identity.caSha256()
          + "): every replica must mount the same CA files");
    }
    String uid = meta.get("mesh-uid");
    if (uid == null || uid.isBlank()) {
      throw new EtcdStartException("etcd prefix " + prefix + ": meta/mesh-uid is missing");
    }
    return uid;
  }

  private static String quote(String s) {
    if (s == null) {
      return "(missing)";
    }
    return s.length() > 80 ? s.substring(0, 80) + "..." : s;
  }

  static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }
}
