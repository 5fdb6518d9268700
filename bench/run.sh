#!/usr/bin/env bash
# Storage benchmark: generates a month of a busy desktop's history through peekd's own
# writer, then times `peekd report` on it and reports the database size.
#
#   bench/run.sh [ROWS] [DAYS]     (default 10000000 rows over 30 days)
#
# Output goes to bench/out/ (ignored by git). Needs a built project (mvn compile).
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-10000000}
days=${2:-30}
out=${OUT:-bench/out}
mkdir -p "$out"
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
java="$JAVA_HOME/bin/java"
cp_file="$out/classpath"
[ -s "$cp_file" ] || mvn -q -B dependency:build-classpath -Dmdep.outputFile="$cp_file" >&2
cp="target/classes:$(cat "$cp_file")"
db="$out/data/peekd.db"
mkdir -p "$out/data" "$out/run" "$out/log"
cat > "$out/config.toml" <<EOF
[paths]
data_dir = "$PWD/$out/data"
run_dir = "$PWD/$out/run"
log_dir = "$PWD/$out/log"
EOF

if [ ! -s "$db" ] || [ "${REGEN:-0}" = 1 ]; then
  rm -f "$db" "$db-wal" "$db-shm"
  "$java" --enable-native-access=ALL-UNNAMED -Xmx1g -cp "$cp" bench/GenHistory.java "$db" "$rows" "$days"
fi
# Fold the write-ahead log in so that the file size is the whole database.
"$java" --enable-native-access=ALL-UNNAMED -cp "$cp" io.peekd.cli.Main db --config "$out/config.toml" checkpoint
"$java" --enable-native-access=ALL-UNNAMED -cp "$cp" io.peekd.cli.Main db --config "$out/config.toml" stats

# The baselines are the same sums straight from the raw windows in plain SQL (the tables
# under the flows view, which a hand-written query would use), measured in the same run: the report's time as a ratio of these says what rollups and peekd's code add or save.
"$java" --enable-native-access=ALL-UNNAMED -Xmx512m -cp "$cp" bench/Measure.java "$out/config.toml" "${RUNS:-10}" \
  -- sql "$db" "SELECT e.path, sum(w.sent), sum(w.recv) FROM flow_windows w JOIN idents i ON i.id = w.ident_id JOIN exes e ON e.id = i.exe_id GROUP BY e.path ORDER BY sum(w.sent) + sum(w.recv) DESC LIMIT 20" \
  -- sql "$db" "SELECT d.domain, sum(w.sent), sum(w.recv) FROM flow_windows w JOIN dests d ON d.id = w.dest_id GROUP BY d.domain ORDER BY sum(w.sent) + sum(w.recv) DESC LIMIT 20" \
  -- report --since 30d --by exe --top 20 \
  -- report --since 30d --by domain --top 20 \
  -- report --since 24h --by exe,domain --top 20 \
  -- report --since 7d --by user,rport \
  -- report --since 30d --by exe --domain site1.net \
  -- report --since 3d --by lport --top 10

# One cold command line, as a user would type it (JVM start included).
start=$(date +%s%N)
"$java" --enable-native-access=ALL-UNNAMED -cp "$cp" io.peekd.cli.Main report --config "$out/config.toml" --since 30d --by exe --top 5 >/dev/null
echo "cold process, peekd report --since 30d --by exe: $(( ($(date +%s%N) - start) / 1000000 )) ms"
