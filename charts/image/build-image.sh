#!/usr/bin/env bash
# Builds the meshwire container image without a container engine or a container registry, from
# Debian's packages only: mmdebstrap makes a Debian trixie root file system (OpenJDK 21 JRE,
# wireguard-tools, wireguard-go, iproute2, nftables, iptables), the `meshwire` fat jar and a
# launcher go on top, and umoci writes it as an OCI image layout, packed into one tar file:
#
#   charts/target/image/meshwire-<tag>.oci.tar
#
# Load or push it with any OCI tool, e.g. `skopeo copy oci-archive:meshwire-0.1.0.oci.tar
# docker://registry.example.com/meshwire/meshwire:0.1.0`, or `podman load -i ...`.
#
# Needs root (mmdebstrap's root mode, chroot), the Debian packages mmdebstrap and umoci, and
# cli/target/meshwire.jar (./mvnw -B install -DskipTests -pl cli -am). --verify runs the image's
# java, meshwire, wg, ip, wireguard-go and nft inside a chroot of the root file system. --run
# (needs runc and python3) runs the finished image under runc, the OCI runtime containerd and CRI-O
# use, as the charts run it: the hub as uid 10001 until it prints READY, and the agent with a
# read-only root, CAP_NET_ADMIN only and /dev/net/tun until wireguard-go made its interface and
# /ready answers 200.
#
# Usage: charts/image/build-image.sh [--tag TAG] [--jar FILE] [--rootfs FILE] [--verify] [--run]
#   --rootfs FILE  reuse a root file system tarball made by an earlier run (it is kept as
#                  charts/target/image/rootfs-<suite>.tar); mmdebstrap takes minutes.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
charts=$(dirname "$here")
main=$(dirname "$charts")
out="$charts/target/image"
suite=trixie # the first Debian release with a Java 21 runtime (openjdk-21-jre-headless)
tag=$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$charts/meshwire-agent/Chart.yaml")
jar="$main/cli/target/meshwire.jar"
rootfs=""
verify=false
run=false

while [ $# -gt 0 ]; do
  case "$1" in
    --tag) tag=$2; shift 2 ;;
    --jar) jar=$2; shift 2 ;;
    --rootfs) rootfs=$2; shift 2 ;;
    --verify) verify=true; shift ;;
    --run) run=true; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-image: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

fail() { echo "build-image: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "needs root (mmdebstrap root mode, chroot)"
command -v mmdebstrap >/dev/null || fail "mmdebstrap is missing: apt-get install mmdebstrap"
command -v umoci >/dev/null || fail "umoci is missing: apt-get install umoci"
[ -f "$jar" ] || fail "$jar is missing: ./mvnw -B install -DskipTests -pl cli -am"
if $run; then
  command -v runc >/dev/null || fail "runc is missing: apt-get install runc"
  command -v python3 >/dev/null || fail "--run edits the runtime config with python3"
fi

mkdir -p "$out"
work=$(mktemp -d "$out/work.XXXXXX")
cleanup() {
  umount "$work/bundle/rootfs/proc" 2>/dev/null || true
  for c in "meshwire-check-hub-$$" "meshwire-check-agent-$$"; do runc delete -f "$c" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

if [ -z "$rootfs" ]; then
  rootfs="$out/rootfs-$suite.tar"
  echo "build-image: mmdebstrap $suite -> $rootfs (takes minutes)"
  # No docs, man pages or locales in the image; the tarball is kept for --rootfs. man1 must exist
  # all the same: update-alternatives links java's man page there and fails without it. The JVM's
  # trust store is written again at the end: ca-certificates-java runs before the JRE is configured.
  mmdebstrap --variant=apt \
    --setup-hook='mkdir -p "$1/usr/share/man/man1"' \
    --customize-hook='chroot "$1" update-ca-certificates --fresh' \
    --include=openjdk-21-jre-headless,wireguard-tools,wireguard-go,iproute2,nftables,iptables,ca-certificates \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    "$suite" "$rootfs" http://deb.debian.org/debian
fi
[ -f "$rootfs" ] || fail "$rootfs is missing"

layout="$work/layout"
bundle="$work/bundle"
umoci init --layout "$layout"
umoci new --image "$layout:$tag"
umoci unpack --image "$layout:$tag" "$bundle"
# Device nodes are the container runtime's business, not the image's.
tar -C "$bundle/rootfs" --exclude='./dev/*' -xf "$rootfs"
# Two layers: the Debian root file system (changes rarely), then meshwire (changes every build).
umoci repack --refresh-bundle --image "$layout:$tag" "$bundle"
install -D -m 0644 "$jar" "$bundle/rootfs/opt/meshwire/meshwire.jar"
# The agent's JVM options: the same argument file the repository's launcher and the tests use.
install -D -m 0644 "$main/mesh-agent/src/main/resources/io/meshwire/agent/agent.jvm-options" \
  "$bundle/rootfs/opt/meshwire/agent.jvm-options"
cat > "$bundle/rootfs/usr/local/bin/meshwire" <<'LAUNCHER'
#!/bin/sh
# meshwire in the container. The JVM reads JAVA_TOOL_OPTIONS (the hub chart sets it) by itself.
# `meshwire agent` starts with the agent's JVM options, a class data sharing archive in /tmp (the
# pod's emptyDir: written when the pod's first agent exits, mapped by its later starts), then
# MESHWIRE_JAVA_OPTS (the agent chart's javaOptions), which come last and so win.
java=/usr/lib/jvm/java-21-openjdk-amd64/bin/java
if [ "${1-}" = agent ]; then
  # shellcheck disable=SC2086  # MESHWIRE_JAVA_OPTS is a list of options
  exec "$java" @/opt/meshwire/agent.jvm-options -XX:SharedArchiveFile=/tmp/meshwire-agent.jsa \
    -XX:+AutoCreateSharedArchive ${MESHWIRE_JAVA_OPTS-} -jar /opt/meshwire/meshwire.jar "$@"
fi
# shellcheck disable=SC2086
exec "$java" ${MESHWIRE_JAVA_OPTS-} -jar /opt/meshwire/meshwire.jar "$@"
LAUNCHER
chmod 0755 "$bundle/rootfs/usr/local/bin/meshwire"

if $verify; then
  echo "build-image: verifying in a chroot"
  mount -t proc proc "$bundle/rootfs/proc"
  chroot "$bundle/rootfs" /usr/local/bin/meshwire --version
  chroot "$bundle/rootfs" /usr/local/bin/meshwire agent --help >/dev/null
  chroot "$bundle/rootfs" /usr/local/bin/meshwire hub --help >/dev/null
  chroot "$bundle/rootfs" sh -c 'wg --version && ip -V && wireguard-go --version | head -1 && nft --version && iptables --version'
  [ -s "$bundle/rootfs/etc/ssl/certs/java/cacerts" ] || fail "the JVM's trust store /etc/ssl/certs/java/cacerts is empty"
  umount "$bundle/rootfs/proc"
fi

umoci repack --image "$layout:$tag" "$bundle"
umoci config --image "$layout:$tag" \
  --config.entrypoint /usr/local/bin/meshwire \
  --config.workingdir / \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --config.label org.opencontainers.image.title=meshwire \
  --config.label org.opencontainers.image.version="$tag" \
  --config.label org.opencontainers.image.description="meshwire hub and agent (Debian $suite, OpenJDK 21)"
umoci gc --layout "$layout"

# Runs the image under runc as a pod would: $1 hub|agent. Prints the container's log on failure.
run_check() {
  local role=$1 bundle="$work/run-$1" id="meshwire-check-$1-$$"
  umoci unpack --image "$layout:$tag" "$bundle" >/dev/null
  python3 - "$bundle/config.json" "$role" <<'PY'
import json, sys
path, role = sys.argv[1], sys.argv[2]
c = json.load(open(path))
p = c["process"]
p["terminal"] = False
p["noNewPrivileges"] = True
c["root"]["readonly"] = True
writable = ["/tmp", "/run"]
if role == "hub":
    p["user"] = {"uid": 10001, "gid": 10001}
    p["args"] = ["/usr/local/bin/meshwire", "hub", "--data-dir=/tmp/hub", "--listen=127.0.0.1:7443",
                 "--metrics-listen=127.0.0.1:9464"]
    for k in p["capabilities"]:
        p["capabilities"][k] = []
else:
    writable.append("/var/lib/meshwire")
    p["args"] = ["/usr/local/bin/meshwire", "agent", "--cluster-id=east", "--state-dir=/var/lib/meshwire",
                 "--hub=127.0.0.1:7443", "--interface=mw0", "--listen-port=51820", "--endpoint=192.0.2.7:51820",
                 "--pod-cidrs=10.244.0.0/16", "--wireguard=userspace", "--metrics-listen=0.0.0.0:9470"]
    for k in p["capabilities"]:
        p["capabilities"][k] = ["CAP_NET_ADMIN"]
    c["linux"].setdefault("devices", []).append(
        {"path": "/dev/net/tun", "type": "c", "major": 10, "minor": 200, "fileMode": 438, "uid": 0, "gid": 0})
    c["linux"].setdefault("resources", {}).setdefault("devices", []).append(
        {"allow": True, "type": "c", "major": 10, "minor": 200, "access": "rwm"})
for d in writable:
    c["mounts"].append({"destination": d, "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777"]})
json.dump(c, open(path, "w"))
PY
  (cd "$bundle" && runc run --detach "$id" >"$work/$role.log" 2>&1 </dev/null) || { cat "$work/$role.log"; fail "runc run $role failed"; }
  local probe ok=false
  if [ "$role" = hub ]; then
    probe='test -f /tmp/hub/ca/ca.crt && exec 3<>/dev/tcp/127.0.0.1/7443'
  else
    probe='wg show mw0 >/dev/null && exec 3<>/dev/tcp/127.0.0.1/9470 && printf "GET /ready HTTP/1.0

" >&3 && head -1 <&3 | grep -q " 200 "'
  fi
  for _ in $(seq 1 60); do
    if runc exec "$id" bash -c "$probe" >/dev/null 2>&1; then ok=true; break; fi
    sleep 1
  done
  runc delete -f "$id" >/dev/null 2>&1 || true
  $ok || { cat "$work/$role.log"; fail "$role did not come up under runc within 60 s"; }
  echo "build-image: runc: $role is up"
}

if $run; then
  run_check hub
  run_check agent
fi

image="$out/meshwire-$tag.oci.tar"
tar -C "$layout" -cf "$image" .
echo "build-image: $image ($(du -h "$image" | cut -f1)), tag $tag"
