#!/usr/bin/env bash
# The daemon's resident memory under a desktop-like load: a few new processes
# a second (curl), each opening connections and moving up to 1 MiB over
# loopback to a local HTTP server. Samples VmRSS every 5 s and prints the
# samples after the warm-up, and the maximum. Run as root (the daemon loads BPF).
#
#   bench/rss.sh [--seconds 120] [--mode launcher|jvm-default]
#
# launcher: bin/peekd's flags (Serial GC, bounded heap, C1); jvm-default: plain
# `java -jar` (G1, default heap = 1/4 of RAM, C2), for comparison.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=120 mode=launcher
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --mode) mode=$2; shift 2 ;;
    *) echo "usage: bench/rss.sh [--seconds N] [--mode launcher|jvm-default]" >&2; exit 2 ;;
  esac
done
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
[ -f target/peekd.jar ] || { echo "build first: mvn package -DskipTests" >&2; exit 1; }
work=$(mktemp -d /tmp/peekd-rss-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
cat > "$work/config.toml" <<TOML
[paths]
data_dir = "$work/data"
run_dir = "$work/run"
log_dir = "$work/log"
[log]
ignore_ports = []
ignore_domains = []
ignore_ips = []
[metrics]
interval_seconds = 5
TOML
mkdir -p "$work/www"
head -c 1048576 /dev/urandom > "$work/www/big"
head -c 20000 /dev/urandom > "$work/www/small"
port=$((20000 + RANDOM % 20000))
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$work/www" >/dev/null 2>&1 &
pids+=($!)

if [ "$mode" = launcher ]; then
  bin/peekd daemon --config "$work/config.toml" > "$work/daemon.out" 2>&1 &
else
  "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -jar target/peekd.jar daemon --config "$work/config.toml" \
    > "$work/daemon.out" 2>&1 &
fi
daemon=$!
pids+=("$daemon")
for _ in $(seq 1 120); do [ -f "$work/run/metrics.json" ] && break; sleep 0.5; done
[ -f "$work/run/metrics.json" ] || { cat "$work/daemon.out"; exit 1; }
jvm=$(pgrep -P "$daemon" java || echo "$daemon")   # the launcher execs, so usually the same pid

# Load: 4 short-lived clients a second, bounded by --seconds.
(
  end=$((SECONDS + seconds))
  i=0
  while [ $SECONDS -lt $end ]; do
    f=small; [ $((i % 4)) = 0 ] && f=big
    curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$port/$f" &
    i=$((i + 1))
    sleep 0.25
  done
  wait
) &
load=$!
pids+=("$load")

warm=30
echo "mode=$mode load average: $(cut -d' ' -f1-3 /proc/loadavg)"
max=0
for ((t = 5; t <= seconds; t += 5)); do
  sleep 5
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$jvm/status")
  if [ "$t" -gt "$warm" ]; then
    echo "t=${t}s rss=$((rss / 1024)) MiB"
    [ "$rss" -gt "$max" ] && max=$rss
  fi
done
wait "$load" || true
rows=$(python3 -c "import json,sys; m=json.load(open('$work/run/metrics.json')); print(m['store']['rows_written'], 'rows,', m['events']['exec'], 'execs,', m['losses_total'], 'losses, heap max', m['process']['heap_max_bytes']//1048576, 'MiB, cpu', round(m['process']['cpu_seconds'], 1), 's')")
echo "steady max rss=$((max / 1024)) MiB; $rows"
kill -TERM "$jvm"
