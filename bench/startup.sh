#!/usr/bin/env bash
# Cold start of peekd CLI commands, with and without the launcher's flags and
# AOT cache. Installs the built jar into a scratch prefix (peekd install, which
# builds the AOT cache) and times each variant RUNS times: median wall time and
# mean CPU time (user+sys, less sensitive to a busy machine).
#
#   bench/startup.sh [--jar target/peekd.jar] [--runs 10]
set -euo pipefail
cd "$(dirname "$0")/.."
jar=target/peekd.jar runs=10
while [ $# -gt 0 ]; do
  case "$1" in
    --jar) jar=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    *) echo "usage: bench/startup.sh [--jar FILE] [--runs N]" >&2; exit 2 ;;
  esac
done
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
java="$JAVA_HOME/bin/java"
work=$(mktemp -d /tmp/peekd-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/etc" "$work/units"
cat > "$work/etc/config.toml" <<TOML
[paths]
data_dir = "$work/data"
run_dir = "$work/run"
log_dir = "$work/log"
TOML
"$java" --enable-native-access=ALL-UNNAMED -jar "$jar" install --prefix "$work/usr" --config-dir "$work/etc" \
  --unit-dir "$work/units" --completion-dir "$work/compl" > "$work/install.out"
launcher="$work/usr/bin/peekd"
aot="$work/usr/lib/peekd/peekd.aot"
[ -f "$aot" ] || echo "note: no AOT cache was built" >&2
# A small history, so that `query` opens SQLite and prints rows.
"$java" --enable-native-access=ALL-UNNAMED -jar "$jar" aot-train >/dev/null

# measure NAME CMD...: prints "NAME  median_wall_ms  mean_cpu_ms"
measure() {
  local name=$1; shift
  local walls=() cpus=() i t
  for ((i = 0; i < runs; i++)); do
    # status exits 3 when no daemon runs: only the timing matters here.
    /usr/bin/time -o "$work/time" -f "%e %U %S" "$@" >/dev/null 2>&1 || true
    t=$(tail -1 "$work/time")
    walls+=("$(awk '{printf "%d", $1*1000}' <<<"$t")")
    cpus+=("$(awk '{printf "%d", ($2+$3)*1000}' <<<"$t")")
  done
  local med cpu
  med=$(printf '%s\n' "${walls[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  cpu=$(printf '%s\n' "${cpus[@]}" | awk '{s+=$1} END {printf "%d", s/NR}')
  printf '%-44s %8s %8s\n' "$name" "$med" "$cpu"
}

cfg=(--config "$work/etc/config.toml")
printf 'load average: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-44s %8s %8s\n' "variant" "wall ms" "cpu ms"
# Baselines in the same run: the JVM alone, and the launcher's JVM flags alone.
measure "baseline: java -version" "$java" -version
measure "baseline: java -version, launcher flags" "$java" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:-UsePerfData -version
measure "java -jar: query --help" "$java" --enable-native-access=ALL-UNNAMED -jar "$jar" query --help
measure "java -jar: status" "$java" --enable-native-access=ALL-UNNAMED -jar "$jar" status "${cfg[@]}"
measure "java -jar: query --json" "$java" --enable-native-access=ALL-UNNAMED -jar "$jar" query --json --since 1h "${cfg[@]}"
mv "$aot" "$aot.off" 2>/dev/null || true
measure "launcher, no AOT: query --help" "$launcher" query --help
measure "launcher, no AOT: query --json" "$launcher" query --json --since 1h "${cfg[@]}"
mv "$aot.off" "$aot" 2>/dev/null || true
measure "launcher + AOT cache: query --help" "$launcher" query --help
measure "launcher + AOT cache: status" "$launcher" status "${cfg[@]}"
measure "launcher + AOT cache: query --json" "$launcher" query --json --since 1h "${cfg[@]}"
measure "launcher + AOT cache: report --since 1h" "$launcher" report --since 1h "${cfg[@]}"
