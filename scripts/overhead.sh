#!/usr/bin/env bash
# Full-stack overhead under load: the same axum hello-world (one log line, one outgoing reqwest
# call to a second local service) served plain and with crumbtrail's tower layer, tracing layer
# and reqwest middleware, loaded with wrk on 127.0.0.1. Needs `wrk` (Debian: apt-get install wrk).
#
# The server is pinned to CPU 0 and wrk to CPU 1 (PIN=0 turns this off): the server then has
# one core to itself and its requests/s is its capacity, not how the scheduler happened to
# share two cores between wrk and the server's threads. Rounds alternate which mode runs
# first, so a drift of the machine's speed during a run hits both alike. Prints each round's
# requests/s and ratio, and the median ratio (the figure to quote) with the mean. On a shared
# host single rounds still range over ±10%: many short rounds give a steadier median than a
# few long ones.
#
# OVERHEAD_PARTS (see examples/examples/overhead_server.rs) turns on only some of crumbtrail's
# parts, e.g. `OVERHEAD_PARTS=tower scripts/overhead.sh` for the tower layer alone, and
# `MODE=layer scripts/overhead.sh` compares plain with plain behind a layer that does nothing.
# `SERVER=official scripts/overhead.sh` loads the same server with the official Sentry SDK in
# crumbtrail's place (scripts/official-sdk, built outside the workspace).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-15} SECONDS_PER_RUN=${SECONDS_PER_RUN:-4} CONNECTIONS=${CONNECTIONS:-32}
PIN=${PIN:-1}
if [ "${SERVER:-crumbtrail}" = official ]; then
  cargo build -q --release --locked --manifest-path scripts/official-sdk/Cargo.toml
  BIN=scripts/official-sdk/target/release/official-sdk-overhead MODE=${MODE:-sentry}
else
  cargo build -q --release -p crumbtrail-examples --example overhead_server
  BIN=target/release/examples/overhead_server MODE=${MODE:-crumbtrail}
fi
server_cpu=() wrk_cpu=()
if [ "$PIN" = 1 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  server_cpu=(taskset -c 0) wrk_cpu=(taskset -c 1)
  echo "server pinned to CPU 0, wrk to CPU 1"
fi
run() { # mode port -> requests/s
  "${server_cpu[@]}" "$BIN" "$1" "$2" >/dev/null & local pid=$!
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$2/" >/dev/null 2>&1 && break; sleep 0.1; done
  "${wrk_cpu[@]}" wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" "http://127.0.0.1:$2/" |
    awk '/Requests\/sec/ {print $2}'
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
ratios=()
for r in $(seq "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then
    p=$(run plain 38101); s=$(run "$MODE" 38102)
  else
    s=$(run "$MODE" 38102); p=$(run plain 38101)
  fi
  ratio=$(echo "$s / $p" | bc -l | cut -c1-6)
  ratios+=("$ratio")
  echo "round $r: plain $p req/s, $MODE $s req/s, ratio $ratio"
done
sorted=$(printf '%s\n' "${ratios[@]}" | sort -n)
median=$(echo "$sorted" | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.4f\n", (a[NR/2]+a[NR/2+1])/2}')
mean=$(echo "$sorted" | awk '{s+=$1} END {printf "%.4f\n", s/NR}')
echo "$MODE/plain over $ROUNDS rounds: median $median, mean $mean (min $(echo "$sorted" | head -1), max $(echo "$sorted" | tail -1))"
