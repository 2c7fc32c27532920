#!/usr/bin/env bash
# latency.sh: the latency distribution and the server CPU per request of
# notmod serve configurations, side by side, on one cache-hit cell.
#
#   bench/latency.sh [FLAGS ...]    e.g.  bench/latency.sh "" "-loops -1"
#
# Each argument is one configuration: extra flags for notmod serve (""
# is the defaults). The runs are interleaved: for each round, each
# configuration in turn gets a fresh server (pinned to SERVER_CPU), a
# 2 s warm-up and DURATION s of `wrk -t1 -c50` (pinned to CLIENT_CPU,
# with the origin). Printed per run: req/s, p50, p90, p99, p99.9, max (as
# wrk records them), and the server's CPU time (user + system, from
# /proc) divided by the requests it answered.
#
# Knobs: CELL [1k-inm] (1k, 100k, 1m, optionally -inm: If-None-Match with
# the current ETag, a 304 from cache), DURATION [5] (1-60), ROUNDS [2]
# (1-10), SERVER_CPU [1], CLIENT_CPU [0], PORT [19200] (origin PORT,
# notmod PORT+2). Needs go, wrk, taskset, curl. Listens on 127.0.0.1 only.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CELL=${CELL:-1k-inm}
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-2}
SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
PORT=${PORT:-19200}
((DURATION >= 1 && DURATION <= 60)) || { echo "DURATION must be 1-60" >&2; exit 1; }
((ROUNDS >= 1 && ROUNDS <= 10)) || { echo "ROUNDS must be 1-10" >&2; exit 1; }
path=/${CELL%-inm}
[[ "$path" =~ ^/(1k|100k|1m)$ ]] || { echo "unknown CELL $CELL" >&2; exit 1; }
(($# > 0)) || set -- ""

WORK=$(mktemp -d /tmp/notmod-latency.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT
(cd "$ROOT" && go build -o "$WORK/notmod" ./cmd/notmod && go build -o "$WORK/origin" ./bench/origin)

wait_port() {
	for _ in $(seq 100); do
		curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$1/" && return 0
		sleep 0.1
	done
	echo "nothing listens on $1" >&2
	exit 1
}

taskset -c "$CLIENT_CPU" "$WORK/origin" -addr "127.0.0.1:$PORT" >/dev/null 2>&1 &
pids+=($!)
wait_port "$PORT"

cat >"$WORK/lat.lua" <<'L'
local inm = os.getenv("WRK_INM")
if inm ~= nil and inm ~= "" then wrk.headers["If-None-Match"] = inm end
function done(summary, latency, requests)
  io.write(string.format("%.0f req/s", summary.requests / (summary.duration / 1e6)))
  for _, p in ipairs({50, 90, 99, 99.9}) do
    io.write(string.format("  p%g %.3f ms", p, latency:percentile(p) / 1000))
  end
  io.write(string.format("  max %.3f ms  requests %d\n", latency.max / 1000, summary.requests))
end
L

echo "cell $CELL ($path), ${DURATION}s per run, $ROUNDS rounds, wrk -t1 -c50; server CPU $SERVER_CPU, wrk CPU $CLIENT_CPU"
for ((r = 1; r <= ROUNDS; r++)); do
	for flags in "$@"; do
		# shellcheck disable=SC2086 # flags are words on purpose
		taskset -c "$SERVER_CPU" "$WORK/notmod" serve -listen "127.0.0.1:$((PORT + 2))" \
			-origin "http://127.0.0.1:$PORT" -admin "" -log-level warn $flags >"$WORK/notmod.log" 2>&1 &
		np=$!
		pids+=("$np")
		wait_port $((PORT + 2))
		url="http://127.0.0.1:$((PORT + 2))$path"
		curl -s -o /dev/null --max-time 10 "$url"
		inm=""
		if [[ "$CELL" == *-inm ]]; then
			inm=$(curl -s -D - -o /dev/null --max-time 10 "$url" | tr -d '\r' | awk 'tolower($1)=="etag:"{print $2}')
		fi
		WRK_INM=$inm timeout 30 taskset -c "$CLIENT_CPU" wrk -t1 -c50 -d2s -s "$WORK/lat.lua" "$url" >/dev/null
		c0=$(awk '{print $14+$15}' "/proc/$np/stat")
		out=$(WRK_INM=$inm timeout $((DURATION + 15)) taskset -c "$CLIENT_CPU" wrk -t1 -c50 -d"${DURATION}s" -s "$WORK/lat.lua" "$url" | tail -1)
		c1=$(awk '{print $14+$15}' "/proc/$np/stat")
		reqs=${out##*requests }
		tck=$(getconf CLK_TCK)
		cpu=$(awk -v c=$((c1 - c0)) -v n="$reqs" -v t="$tck" 'BEGIN{printf "%.2f", c / t * 1e6 / n}')
		printf 'round %d  [%s]  %s  server CPU %s us/request\n' "$r" "${flags:-defaults}" "$out" "$cpu"
		kill "$np"
		wait "$np" 2>/dev/null || true
	done
done
