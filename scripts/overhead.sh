#!/usr/bin/env bash
# Full-stack overhead under load: the same axum hello-world (one log line, one outgoing reqwest
# call to a second local service) served plain and with crumbtrail's tower layer, tracing layer
# and reqwest middleware, loaded with wrk on 127.0.0.1. Needs `wrk` (Debian: apt-get install wrk).
#
# Every mode's server runs for the whole measurement, pinned to CPU 0, with wrk on CPU 1
# (PIN=0 turns this off): the server under load then has a core to itself and its requests/s
# is its capacity, not how the scheduler happened to share two cores between wrk and the
# server's threads (the idle servers take no CPU). Each round loads every server in turn, in
# an order that rotates from round to round, for SECONDS_PER_RUN seconds; the ratio of a
# round is a mode's requests/s over plain's in that round. Prints each round and, per mode,
# the median ratio (the figure to quote) with the mean. On a shared host single rounds range
# over ±10% or more: many short rounds give a steadier median than a few long ones, and the
# servers staying up makes short rounds cheap.
#
# MODE names the modes to compare with plain, comma-separated (default crumbtrail), e.g.
# MODE=floor,crumbtrail for crumbtrail and the frameworks' floor (what any SDK with the same
# parts pays before doing work of its own; see examples/examples/overhead_server.rs).
# OVERHEAD_PARTS turns on only some parts, in both modes: `OVERHEAD_PARTS=tower
# scripts/overhead.sh` for crumbtrail's tower layer alone, `OVERHEAD_PARTS=tower MODE=floor
# scripts/overhead.sh` for a tower layer that does nothing. `SERVER=official scripts/overhead.sh` loads the same server
# with the official Sentry SDK in crumbtrail's place (scripts/official-sdk, built outside the
# workspace).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-31} SECONDS_PER_RUN=${SECONDS_PER_RUN:-2} CONNECTIONS=${CONNECTIONS:-32}
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
  echo "servers pinned to CPU 0, wrk to CPU 1"
fi
IFS=, read -r -a modes <<<"$MODE"
all=(plain "${modes[@]}")
declare -A port
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
for i in "${!all[@]}"; do
  m=${all[$i]} port[${all[$i]}]=$((38101 + i))
  "${server_cpu[@]}" "$BIN" "$m" "${port[$m]}" >/dev/null & pids+=($!)
done
load() { # mode seconds -> requests/s
  "${wrk_cpu[@]}" wrk -t1 -c"$CONNECTIONS" -d"$2s" "http://127.0.0.1:${port[$1]}/" |
    awk '/Requests\/sec/ {print $2}'
}
for m in "${all[@]}"; do
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:${port[$m]}/" >/dev/null 2>&1 && break; sleep 0.1; done
  load "$m" 1 >/dev/null # warm up: connection pools, caches
done
declare -A ratios
for r in $(seq "$ROUNDS"); do
  declare -A rps=()
  for i in "${!all[@]}"; do
    m=${all[$(((i + r) % ${#all[@]}))]}
    rps[$m]=$(load "$m" "$SECONDS_PER_RUN")
  done
  line="round $r: plain ${rps[plain]} req/s"
  for m in "${modes[@]}"; do
    ratio=$(echo "${rps[$m]} / ${rps[plain]}" | bc -l | cut -c1-6)
    ratios[$m]+="$ratio "
    line+=", $m ${rps[$m]} ($ratio)"
  done
  echo "$line"
done
for m in "${modes[@]}"; do
  sorted=$(printf '%s\n' ${ratios[$m]} | sort -n)
  median=$(echo "$sorted" | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.4f\n", (a[NR/2]+a[NR/2+1])/2}')
  mean=$(echo "$sorted" | awk '{s+=$1} END {printf "%.4f\n", s/NR}')
  echo "$m/plain over $ROUNDS rounds: median $median, mean $mean (min $(echo "$sorted" | head -1), max $(echo "$sorted" | tail -1))"
done
