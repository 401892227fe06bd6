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
# servers staying up makes short rounds cheap. Last, per mode, the server's CPU time per
# request over all rounds (user and kernel, from /proc/PID/stat) and the capacity it implies
# relative to plain: a cross-check of the median that other work on the host disturbs less.
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
cpu_ticks() { # pid -> user and system CPU time so far, in clock ticks (all threads)
  awk '{print $14, $15}' "/proc/$1/stat"
}
declare -A pid_of user_ticks sys_ticks served rps
for i in "${!all[@]}"; do
  m=${all[$i]} pid_of[${all[$i]}]=${pids[$i]}
  user_ticks[$m]=0 sys_ticks[$m]=0 served[$m]=0
done
load() { # mode seconds: sets rps[mode], adds the server's CPU time and requests to its totals
  local before after out
  before=$(cpu_ticks "${pid_of[$1]}")
  out=$("${wrk_cpu[@]}" wrk -t1 -c"$CONNECTIONS" -d"$2s" "http://127.0.0.1:${port[$1]}/")
  after=$(cpu_ticks "${pid_of[$1]}")
  read -r u0 s0 <<<"$before"
  read -r u1 s1 <<<"$after"
  user_ticks[$1]=$((user_ticks[$1] + u1 - u0)) sys_ticks[$1]=$((sys_ticks[$1] + s1 - s0))
  served[$1]=$((served[$1] + $(awk '/requests in/ {print $1}' <<<"$out")))
  rps[$1]=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
}
for m in "${all[@]}"; do
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:${port[$m]}/" >/dev/null 2>&1 && break; sleep 0.1; done
  load "$m" 1 # warm up: connection pools, caches
  user_ticks[$m]=0 sys_ticks[$m]=0 served[$m]=0
done
declare -A ratios
for r in $(seq "$ROUNDS"); do
  for i in "${!all[@]}"; do
    m=${all[$(((i + r) % ${#all[@]}))]}
    load "$m" "$SECONDS_PER_RUN"
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
# Where a request's CPU time goes, summed over all rounds: the servers are CPU-bound (a core
# each under load), so requests/s is the inverse of CPU time per request, and a mode's capacity
# relative to plain is plain's CPU time per request over its own. This is steadier than the
# requests/s ratios when other work shares the host: what it disturbs is mostly how long a
# server waits for its core, not what a request costs. The kernel's part (loopback TCP for
# both connections) is the same in every mode: an SDK's overhead is all in user space.
hz=$(getconf CLK_TCK)
cpu_us() { # mode -> user and kernel CPU µs per request
  awk -v u="${user_ticks[$1]}" -v s="${sys_ticks[$1]}" -v n="${served[$1]}" -v hz="$hz" \
    'BEGIN { printf "%.3f %.3f\n", u / hz / n * 1e6, s / hz / n * 1e6 }'
}
read -r plain_user plain_sys <<<"$(cpu_us plain)"
for m in "${all[@]}"; do
  read -r user sys <<<"$(cpu_us "$m")"
  awk -v m="$m" -v u="$user" -v s="$sys" -v pu="$plain_user" -v ps="$plain_sys" -v n="${served[$m]}" \
    'BEGIN { printf "%s CPU per request: user %.2f µs, kernel %.2f µs (%d requests); capacity %.3f of plain\n", m, u, s, n, (pu + ps) / (u + s) }'
done
