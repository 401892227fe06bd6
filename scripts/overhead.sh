#!/usr/bin/env bash
# Full-stack overhead under load: the same axum hello-world (one log line, one outgoing reqwest
# call to a second local service) served plain and with crumbtrail's tower layer, tracing layer
# and reqwest middleware, loaded with wrk on 127.0.0.1, rounds interleaved. Prints requests/s
# per round and the ratio. Needs `wrk` (Debian: apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3} SECONDS_PER_RUN=${SECONDS_PER_RUN:-10} CONNECTIONS=${CONNECTIONS:-32}
cargo build -q --release -p crumbtrail-examples --example overhead_server
BIN=target/release/examples/overhead_server
run() { # mode port -> requests/s
  "$BIN" "$1" "$2" >/dev/null & local pid=$!
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$2/" >/dev/null 2>&1 && break; sleep 0.1; done
  wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" "http://127.0.0.1:$2/" | awk '/Requests\/sec/ {print $2}'
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
plain_total=0; sdk_total=0
for r in $(seq "$ROUNDS"); do
  p=$(run plain 38101); s=$(run crumbtrail 38102)
  echo "round $r: plain $p req/s, crumbtrail $s req/s"
  plain_total=$(echo "$plain_total + $p" | bc -l); sdk_total=$(echo "$sdk_total + $s" | bc -l)
done
echo "mean: plain $(echo "$plain_total / $ROUNDS" | bc -l | cut -c1-9) req/s, crumbtrail $(echo "$sdk_total / $ROUNDS" | bc -l | cut -c1-9) req/s, crumbtrail/plain = $(echo "$sdk_total / $plain_total" | bc -l | cut -c1-6)"
