#!/usr/bin/env bash
# Dashboard benchmark: builds a 1 M row history (kept in bench/out/web/ for reruns), then
# measures every API call the page makes (p50/p95) and the first render in headless Chromium.
# Usage: bench/web-bench.sh [ROWS] [ITERATIONS] [page]   Results: bench/out/web/results.md
# ("page" measures only the first render in Chromium.)
set -euo pipefail
cd "$(dirname "$0")/.."
export JAVA_HOME=${JAVA_HOME:-$(scripts/setup --test)}
rows=${1:-1000000}
iterations=${2:-40}
mvn -q -B -DskipTests test-compile
mvn -q -B dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench-classpath.txt
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Xmx1g \
  -cp "target/test-classes:target/classes:$(cat target/bench-classpath.txt)" \
  io.peekd.web.WebBench bench/out/web "$rows" "$iterations" "${3:-all}"
