#!/usr/bin/env bash
# hub-restart.sh: restart to serving of the hub, as `meshwire hub` starts it (AOT cache or class data
# sharing archive of its own), on a copy of a data directory, with no agents.
#
#   load-tests/bin/hub-restart.sh DATA_DIR RUNS [aot:|cds:]JAR [[aot:|cds:]JAR...]
#
# DATA_DIR: a hub data directory, e.g. the `hub` directory a `meshwire bench hub --keep-work` run
# leaves behind. Each JAR (a shaded meshwire.jar: cli/target/meshwire.jar, or copies of it built
# before and after a change) first runs once to write its archive (not counted): an AOT cache on JDK
# 25 and later, a dynamic CDS archive before, as the launcher does; `aot:` or `cds:` in front of a JAR
# chooses (the same jar twice, `cds:J aot:J`, compares the two). Then the jars run
# RUNS times each, alternating (A, B, A, B...), so a change in the machine's load hits both alike.
# Every run starts on a fresh copy of DATA_DIR, waits for READY, reads the hub's CPU time
# (utime+stime from /proc), stops it with SIGTERM. Per run: wall ms and CPU s from the process start
# to READY, and the hub's own `start_ms` breakdown (its "hub started" log line); then medians per jar.
# Extra JVM options: HUB_JAVA_OPTS (word-split). Prints `uptime` before and after: quote the load.
set -euo pipefail

if [ $# -lt 3 ]; then
  sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
data=$1
runs=$2
shift 2
java="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java"
work=$(mktemp -d "${TMPDIR:-/tmp}/meshwire-hub-restart.XXXXXX")
trap 'rm -rf "$work"' EXIT
tick=$(getconf CLK_TCK)

jdk=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$(dirname "$(dirname "$java")")/release" 2>/dev/null || true)
if [ "${jdk:-0}" -ge 25 ]; then default_mode=aot; else default_mode=cds; fi

# one [MODE:]JAR INDEX LABEL: one start; prints "LABEL wall_ms cpu_s start_ms" (nothing counted for "archive").
one() {
  local jar=$1 index=$2 label=$3 run="$work/run" pid end cpu mode=$default_mode
  case "$jar" in
    aot:* | cds:*) mode=${jar%%:*}; jar=${jar#*:} ;;
  esac
  local archive=() cache="$work/archive-$index.$mode"
  if [ "$mode" = cds ]; then
    archive=("-XX:SharedArchiveFile=$cache" -XX:+AutoCreateSharedArchive)
  elif [ -f "$cache" ]; then
    archive=("-XX:AOTCache=$cache" "-Xlog:aot*=error")
  else
    archive=("-XX:AOTCacheOutput=$cache" "-Xlog:aot*=error")
  fi
  rm -rf "$run"
  mkdir -p "$run"
  cp -a "$data" "$run/data"
  rm -f "$run/data/log/lock"
  local start
  start=$(date +%s%N)
  # shellcheck disable=SC2086  # HUB_JAVA_OPTS is a list of options
  "$java" "${archive[@]}" "-Xlog:cds*=error" \
    ${HUB_JAVA_OPTS-} -jar "$jar" hub --data-dir "$run/data" --listen 127.0.0.1:0 >"$run/out" 2>"$run/err" &
  pid=$!
  for _ in $(seq 1 3000); do
    grep -q '^READY' "$run/out" && break
    kill -0 "$pid" 2>/dev/null || { echo "$label: the hub exited before READY:" >&2; tail -5 "$run/err" >&2; exit 1; }
    sleep 0.02
  done
  end=$(date +%s%N)
  read -r -a stat <"/proc/$pid/stat"
  cpu=$(( (stat[13] + stat[14]) * 1000 / tick ))
  kill -TERM "$pid"
  wait "$pid" || true
  printf '%s wall_ms=%d cpu_s=%d.%02d %s\n' "$label" $(( (end - start) / 1000000 )) $(( cpu / 1000 )) \
    $(( cpu % 1000 / 10 )) "$(grep -o 'start_ms=[^ ]*' "$run/err" || true)"
}

uptime
i=0
for jar in "$@"; do
  one "$jar" "$i" "archive-$i" >/dev/null
  i=$((i + 1))
done
for r in $(seq 1 "$runs"); do
  i=0
  for jar in "$@"; do
    one "$jar" "$i" "jar$i:$(basename "$jar"):run$r" | tee -a "$work/results"
    i=$((i + 1))
  done
done
uptime
# median FIELD JARINDEX: the median of wall_ms or cpu_s over that jar's runs.
median() {
  local values
  values=$(grep "^jar$2:" "$work/results" | grep -o "$1=[0-9.]*" | cut -d= -f2 | sort -n)
  echo "$values" | sed -n "$(( ($(echo "$values" | wc -l) + 1) / 2 ))p"
}
i=0
for jar in "$@"; do
  echo "median $jar: wall_ms=$(median wall_ms $i) cpu_s=$(median cpu_s $i) ($runs runs)"
  i=$((i + 1))
done
