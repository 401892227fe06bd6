#!/usr/bin/env bash
# The full-stack overhead counted rather than timed: instructions and allocations per request of
# the overhead benchmark's server (see overhead.sh), plain and with crumbtrail, under callgrind.
# Deterministic, so a change of a few hundred instructions per request shows, where overhead.sh's
# requests/s move by a few percent from run to run on a shared machine. It counts user space
# only (the kernel's share of a request, ~60% here, is the same in both modes).
# Needs valgrind and wrk. Prints, per mode: requests, instructions/request, mallocs/request.
#
# BREAKDOWN=1 also measures crumbtrail and the frameworks' floor (overhead_server.rs's `floor`
# mode: what any SDK with these parts pays before doing work of its own) with their parts
# turned on one after the other (the server's OVERHEAD_PARTS): the tower layer alone, then
# with sessions (crumbtrail only), the tracing layer, the reqwest middleware without and then
# with trace propagation (the last one is the full stack).
#
# SERVER=official measures the same server with the official Sentry SDK in crumbtrail's place
# (scripts/official-sdk, built outside the workspace; MODE=sentry-nosession for its tower
# layers without a session per request).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${SECONDS_PER_RUN:-15}
if [ "${SERVER:-crumbtrail}" = official ]; then
  cargo build -q --release --locked --manifest-path scripts/official-sdk/Cargo.toml
  BIN=$PWD/scripts/official-sdk/target/release/official-sdk-overhead MODE=${MODE:-sentry}
else
  cargo build -q --release -p crumbtrail-examples --example overhead_server
  BIN=$PWD/target/release/examples/overhead_server MODE=${MODE:-crumbtrail}
fi
OUT=${KEEP_DIR:-$(mktemp -d)}
[ -n "${KEEP_DIR:-}" ] || trap 'rm -rf "$OUT"' EXIT
measure() { # mode port [label]
  local label=${3:-$1}
  valgrind --tool=callgrind --callgrind-out-file="$OUT/cg.$label.%p" "$BIN" "$1" "$2" \
    >/dev/null 2>"$OUT/valgrind.$label.log" & local pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$2/" >/dev/null 2>&1 && break; sleep 0.3; done
  wrk -t1 -c8 -d3s "http://127.0.0.1:$2/" >/dev/null # warm up: connections, pools, caches
  callgrind_control -z "$pid" >/dev/null 2>&1
  local requests
  requests=$(wrk -t1 -c8 -d"${SECONDS_PER_RUN}s" "http://127.0.0.1:$2/" | awk '/requests in/ {print $1}')
  callgrind_control -d "$pid" >/dev/null 2>&1
  kill "$pid"; wait "$pid" 2>/dev/null || true
  local dump
  dump=$(ls "$OUT/cg.$label".*.1)
  local total mallocs
  total=$(callgrind_annotate "$dump" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1; exit}')
  # Calls to libc's malloc, summed over every call site in the dump.
  mallocs=$(python3 - "$dump" <<'PY'
import re, sys
names, target, total = {}, None, 0
for line in open(sys.argv[1], errors="replace"):
    m = re.match(r"(c?)fn=\((\d+)\)(?: (.*))?", line)
    if m:
        if m.group(3):
            names[m.group(2)] = m.group(3).strip()
        target = names.get(m.group(2), "") if m.group(1) else None
        continue
    if line.startswith("calls=") and target is not None:
        if target == "malloc":
            total += int(line[6:].split()[0])
        target = None
print(total)
PY
)
  echo "$label: $requests requests, $((total / requests)) instructions/request, $((mallocs / requests)) mallocs/request"
}
measure plain 38131
if [ "${BREAKDOWN:-0}" = 1 ] && [ "$MODE" = crumbtrail ]; then
  for mode in floor crumbtrail; do
    parts=""
    for part in tower sessions tracing reqwest propagation; do
      [ "$mode:$part" = floor:sessions ] && continue
      parts="${parts:+$parts,}$part"
      OVERHEAD_PARTS=$parts measure "$mode" 38132 "$mode[$parts]"
    done
  done
else
  measure "$MODE" 38132
fi
