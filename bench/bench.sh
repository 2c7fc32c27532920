#!/usr/bin/env bash
# bench.sh: cache-hit throughput of notmod serve against a bare net/http
# server serving the same bytes (limit), nginx and Varnish.
#
#   bench/bench.sh [NAME=PORT:COMMAND ...] > report.md
#
# What it does, end to end:
#   1. builds bench/origin, bench/limit and ./cmd/notmod (this module, no
#      other dependency) into a temp dir;
#   2. writes nginx (proxy_cache on /dev/shm, open_file_cache) and Varnish
#      (malloc storage) configs there, for whichever of the two is installed;
#   3. starts the origin (pinned to CLIENT_CPU) and every target (pinned to
#      SERVER_CPU), all on 127.0.0.1, each in its own process group;
#   4. checks every target: GET bodies byte-identical to the origin's,
#      repeated GETs and If-None-Match (304, empty body, the origin's ETag)
#      answered without reaching the origin, and for notmod a Cache-Status
#      member that says hit (nginx: X-Cache-Status HIT, Varnish: X-Cache HIT);
#   5. runs the wrk matrix, interleaved: for each round, for each cell, every
#      target in turn, WARMUP s warm-up then DURATION s measured, wrk pinned
#      to CLIENT_CPU;
#   6. records each target's RSS/PSS, stops everything it started (by
#      process-group id, also on error or Ctrl-C) and prints a Markdown
#      report on stdout; progress goes to stderr.
#
# Targets: limit (bench/limit: plain net/http, no cache, the ceiling for a
# net/http server; ratios are computed against it), notmod (notmod serve,
# memory store, default flags plus NOTMOD_FLAGS), nginx and varnish (when
# installed). Ports (BASE_PORT = 19100 by default): origin +0, limit +1,
# notmod +2, varnish +3, nginx +4, varnish CLI +9.
#
# Extra targets: NAME=PORT:COMMAND, PORT in BASE_PORT+10 .. BASE_PORT+99.
# COMMAND runs under `bash -c` from the directory bench.sh was started in,
# pinned to SERVER_CPU, with ORIGIN_PORT, ORIGIN_URL (http://127.0.0.1:
# $ORIGIN_PORT), PORT and BIN (where notmod, origin and limit were built) in
# its environment. It must serve 127.0.0.1:$PORT as a cache in front of
# $ORIGIN_URL, in the foreground. Single-quote the argument, e.g.
#   bench/bench.sh 'notmod-warn=19110:$BIN/notmod serve -listen 127.0.0.1:$PORT -origin $ORIGIN_URL -log-level warn'
#
# Environment knobs (defaults in brackets; the defaults finish in ~4 min):
#   ROUNDS [3]     interleaved rounds (0: checks only, no load)
#   DURATION [4]   seconds measured per run      WARMUP [1]  s before each run
#   PREWARM [2]    s per target and cell, once before round 1
#   CONNS [50]     wrk connections (one wrk thread)
#   CELLS ["1k 100k 1k-inm"]  any of 1k 100k 1m, optionally with -inm
#                  (If-None-Match with the current ETag: 304 from cache)
#   SKIP [""]      targets to leave out, e.g. "varnish nginx"
#   SERVER_CPU [1]  CLIENT_CPU [0]  BASE_PORT [19100]
#   NOTMOD_FLAGS [""]  extra flags for notmod serve, e.g. "-memory 64MiB"
#   NGINX_OFC [1]  0 drops nginx's open_file_cache
#   VARNISH_STORAGE [malloc,256m]
#   KEEP_WORKDIR [0]  1 keeps the temp dir (configs, logs, raw wrk output)
#   RAW_OUT [""]   also copy the raw per-run TSV to this file
#
# Bounds: DURATION, WARMUP and PREWARM at most 60 s, ROUNDS at most 15;
# every wrk run is killed 15 s after its duration, every curl after 10 s.
#
# Needs: go, wrk, taskset, setsid, timeout, curl, ss, awk; nginx and
# varnishd are used when installed. Run as root for Varnish (it drops to
# its own users).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
INVOKE_DIR=$PWD
SELF=${BASH_SOURCE[0]}

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-4}
WARMUP=${WARMUP:-1}
PREWARM=${PREWARM:-2}
CONNS=${CONNS:-50}
CELLS=${CELLS:-"1k 100k 1k-inm"}
SKIP=${SKIP:-}
SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
BASE_PORT=${BASE_PORT:-19100}
NOTMOD_FLAGS=${NOTMOD_FLAGS:-}
NGINX_OFC=${NGINX_OFC:-1}
VARNISH_STORAGE=${VARNISH_STORAGE:-malloc,256m}
KEEP_WORKDIR=${KEEP_WORKDIR:-0}
RAW_OUT=${RAW_OUT:-}

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
	log "ERROR: $*"
	exit 1
}

# The exact command, every knob spelled out, for the report.
COMMAND="cd $(printf %q "$INVOKE_DIR") && ROUNDS=$ROUNDS DURATION=$DURATION WARMUP=$WARMUP PREWARM=$PREWARM CONNS=$CONNS CELLS=$(printf %q "$CELLS") SKIP=$(printf %q "$SKIP") SERVER_CPU=$SERVER_CPU CLIENT_CPU=$CLIENT_CPU BASE_PORT=$BASE_PORT NOTMOD_FLAGS=$(printf %q "$NOTMOD_FLAGS") NGINX_OFC=$NGINX_OFC VARNISH_STORAGE=$VARNISH_STORAGE $SELF"
for arg in "$@"; do COMMAND+=" $(printf %q "$arg")"; done

# ------------------------------------------------------------------- knobs
for k in ROUNDS DURATION WARMUP PREWARM CONNS SERVER_CPU CLIENT_CPU BASE_PORT NGINX_OFC; do
	[[ "${!k}" =~ ^[0-9]+$ ]] || die "$k must be a non-negative integer (got '${!k}')"
done
((ROUNDS <= 15)) || die "ROUNDS must be at most 15"
((DURATION >= 1 && DURATION <= 60)) || die "DURATION must be 1-60 s"
((WARMUP <= 60 && PREWARM <= 60)) || die "WARMUP and PREWARM must be at most 60 s"
((CONNS >= 1 && CONNS <= 1000)) || die "CONNS must be 1-1000"
((BASE_PORT >= 1024 && BASE_PORT <= 65400)) || die "BASE_PORT must be 1024-65400"
for c in $CELLS; do
	case "$c" in
	1k | 100k | 1m | 1k-inm | 100k-inm | 1m-inm) ;;
	*) die "unknown cell '$c' (use 1k 100k 1m, optionally with -inm)" ;;
	esac
done
[[ -n "${CELLS// /}" ]] || die "CELLS is empty"

ORIGIN_PORT=$BASE_PORT
VARNISH_ADMIN_PORT=$((BASE_PORT + 9))

# ----------------------------------------------------------------- targets
declare -a TARGETS=()
declare -A PORT=() KIND=() CMD=() PGID=()
declare -a STARTED=() # names, in start order (origin first)
declare -a NOTES=()

PORT[limit]=$((BASE_PORT + 1))
PORT[notmod]=$((BASE_PORT + 2))
PORT[varnish]=$((BASE_PORT + 3))
PORT[nginx]=$((BASE_PORT + 4))
PORT[notmod-net]=$((BASE_PORT + 5))

skipped() { [[ " $SKIP " == *" $1 "* ]]; }

for arg in "$@"; do
	case "$arg" in
	-h | --help)
		sed -n '2,/^set -euo/p' "$SELF" | sed '$d' | sed 's/^# \{0,1\}//'
		exit 0
		;;
	esac
done

for t in limit notmod notmod-net varnish nginx; do
	skipped "$t" && continue
	case "$t" in
	varnish)
		if ! command -v varnishd >/dev/null; then
			NOTES+=("varnish left out: varnishd is not installed (apt-get install varnish)")
			continue
		fi
		;;
	nginx)
		if ! command -v nginx >/dev/null; then
			NOTES+=("nginx left out: it is not installed (apt-get install nginx)")
			continue
		fi
		;;
	esac
	TARGETS+=("$t")
	KIND[$t]=builtin
done

for arg in "$@"; do
	[[ "$arg" == *=*:* ]] || die "target '$arg' is not NAME=PORT:COMMAND"
	name=${arg%%=*}
	rest=${arg#*=}
	port=${rest%%:*}
	cmd=${rest#*:}
	[[ "$name" =~ ^[A-Za-z0-9_.-]+$ ]] || die "target name '$name': use letters, digits, _ . -"
	[[ -z "${KIND[$name]:-}" && -z "${PORT[$name]:-}" && "$name" != origin ]] || die "target name '$name' is taken"
	[[ "$port" =~ ^[0-9]+$ ]] && ((port >= BASE_PORT + 10 && port <= BASE_PORT + 99)) ||
		die "target '$name': PORT must be in $((BASE_PORT + 10))-$((BASE_PORT + 99)) (got '$port')"
	for n in "${TARGETS[@]}"; do
		[[ "${PORT[$n]}" != "$port" ]] || die "target '$name': port $port already used by '$n'"
	done
	[[ -n "$cmd" ]] || die "target '$name': empty COMMAND"
	TARGETS+=("$name")
	KIND[$name]=extra
	PORT[$name]=$port
	CMD[$name]=$cmd
done

HAVE_LIMIT=0
[[ -n "${KIND[limit]:-}" ]] && HAVE_LIMIT=1
((${#TARGETS[@]} > 0)) || die "no targets"
((HAVE_LIMIT)) || NOTES+=("limit was skipped: no ratios")

# ------------------------------------------------------------------ checks
need=(go wrk taskset setsid timeout curl ss awk cmp)
[[ -n "${KIND[varnish]:-}" ]] && need+=(varnishstat)
for c in "${need[@]}"; do
	command -v "$c" >/dev/null || die "missing tool: $c"
done
taskset -c "$SERVER_CPU" true 2>/dev/null || die "cannot pin to SERVER_CPU=$SERVER_CPU"
taskset -c "$CLIENT_CPU" true 2>/dev/null || die "cannot pin to CLIENT_CPU=$CLIENT_CPU"

port_busy() { [[ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]]; }
all_ports=("$ORIGIN_PORT")
for t in "${TARGETS[@]}"; do all_ports+=("${PORT[$t]}"); done
[[ -n "${KIND[varnish]:-}" ]] && all_ports+=("$VARNISH_ADMIN_PORT")
for p in "${all_ports[@]}"; do
	! port_busy "$p" || die "port $p is already in use on this machine (set BASE_PORT)"
done

# -------------------------------------------------------- work dir, cleanup
WORK=$(mktemp -d /tmp/notmod-bench.XXXXXX)
chmod 755 "$WORK" # varnishd's unprivileged users must reach its -n dir
SHM=$(mktemp -d /dev/shm/notmod-bench-nginx.XXXXXX)
chmod 755 "$SHM"
BIN=$WORK/bin
mkdir -p "$BIN" "$WORK/logs" "$WORK/wrk" "$WORK/check" "$WORK/nginx/tmp"

# stop_group NAME: SIGTERM the process group we started (its id is the PID
# we got from starting it), wait up to 10 s, then SIGKILL it.
stop_group() {
	local name=$1 pg=${PGID[$1]:-}
	[[ -n "$pg" ]] || return 0
	if kill -0 -- "-$pg" 2>/dev/null; then
		kill -TERM -- "-$pg" 2>/dev/null || true
		local i
		for ((i = 0; i < 100; i++)); do
			kill -0 -- "-$pg" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 -- "-$pg" 2>/dev/null; then
			log "$name (pgid $pg) did not stop on SIGTERM; SIGKILL"
			kill -KILL -- "-$pg" 2>/dev/null || true
		fi
	fi
	wait "$pg" 2>/dev/null || true
	unset "PGID[$name]"
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	local i
	for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do
		stop_group "${STARTED[$i]}"
	done
	rm -rf "$SHM"
	if [[ "$KEEP_WORKDIR" == 1 ]]; then
		log "work dir kept: $WORK"
	else
		rm -rf "$WORK"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'log "failed (exit $?) at line $LINENO: $BASH_COMMAND"' ERR
trap 'log "interrupted"; exit 130' INT TERM

# start_proc NAME CPU CMD...: start CMD pinned to CPU in a new session (so
# its PID is also its process-group id and everything it forks can be
# stopped together), output to logs/NAME.log.
start_proc() {
	local name=$1 cpu=$2
	shift 2
	setsid taskset -c "$cpu" "$@" >"$WORK/logs/$name.log" 2>&1 </dev/null &
	local pid=$!
	PGID[$name]=$pid
	STARTED+=("$name")
	# setsid execs in place (a background job is no group leader), so the
	# PID becomes the group id as soon as the child has run setsid().
	local pg i
	for ((i = 0; i < 40; i++)); do
		pg=$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ' || true)
		[[ -z "$pg" || "$pg" == "$pid" ]] && return 0
		sleep 0.05
	done
	die "$name: pid $pid did not become its own process group (pgid $pg)"
}

# wait_port NAME PORT: until something listens on 127.0.0.1:PORT (20 s max).
wait_port() {
	local name=$1 port=$2 i
	for ((i = 0; i < 200; i++)); do
		if ! kill -0 "${PGID[$name]}" 2>/dev/null; then
			tail -n 20 "$WORK/logs/$name.log" >&2 || true
			die "$name exited during start-up (log above)"
		fi
		port_busy "$port" && return 0
		sleep 0.1
	done
	tail -n 20 "$WORK/logs/$name.log" >&2 || true
	die "$name did not listen on 127.0.0.1:$port within 20 s"
}

# ------------------------------------------------------------------- build
log "building bench/origin, bench/limit and cmd/notmod into $BIN"
(cd "$ROOT" && go build -o "$BIN/origin" ./bench/origin) || die "building bench/origin failed"
(cd "$ROOT" && go build -o "$BIN/limit" ./bench/limit) || die "building bench/limit failed"
(cd "$ROOT" && go build -o "$BIN/notmod" ./cmd/notmod) || die "building cmd/notmod failed"
# The working tree as built, on top of this commit (read-only git query).
NOTMOD_REV="working tree at $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo 'unknown commit')"

# ----------------------------------------------------------------- configs
cat >"$WORK/varnish.vcl" <<EOF
vcl 4.1;

backend origin {
    .host = "127.0.0.1";
    .port = "$ORIGIN_PORT";
}

# Default builtin VCL otherwise; this only labels hits for the checks.
sub vcl_deliver {
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
}
EOF

cat >"$WORK/nginx.conf" <<EOF
# One worker: the whole group is pinned to one CPU.
worker_processes 1;
daemon off;
master_process on;
pid $WORK/nginx/nginx.pid;
error_log $WORK/logs/nginx-error.log warn;

events {
    worker_connections 1024;
}

http {
    access_log off;
    sendfile on;
    # tcp_nopush (TCP_CORK) stays off, as in nginx's own default: with it on,
    # 100 KiB hits can stall on delayed ACKs over loopback.
    tcp_nopush off;
    tcp_nodelay on;
    keepalive_timeout 65s;
    # The default (1000) would make wrk reconnect every 1000 requests;
    # the Go servers and Varnish have no such limit.
    keepalive_requests 10000000;

    client_body_temp_path $WORK/nginx/tmp/client;
    proxy_temp_path $WORK/nginx/tmp/proxy;
    fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
    uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
    scgi_temp_path $WORK/nginx/tmp/scgi;

    # Keep cache files open between hits (no open/fstat/close per hit):
    # nginx's best configuration for this workload. NGINX_OFC=0 drops it.
$( [[ "$NGINX_OFC" == 1 ]] && printf '    open_file_cache max=1000 inactive=60s;\n    open_file_cache_valid 60s;\n    open_file_cache_min_uses 1;\n' )

    # Cache files on tmpfs.
    proxy_cache_path $SHM/cache levels=1:2 keys_zone=bench:10m max_size=256m inactive=1h use_temp_path=off;

    upstream origin {
        server 127.0.0.1:$ORIGIN_PORT;
        keepalive 16;
    }

    server {
        listen 127.0.0.1:${PORT[nginx]};
        location / {
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_cache bench;
            proxy_cache_lock on;
            proxy_cache_revalidate on;
            add_header X-Cache-Status \$upstream_cache_status always;
        }
    }
}
EOF

cat >"$WORK/wrk.lua" <<'EOF'
-- If WRK_INM is set, send it as If-None-Match on every request.
local inm = os.getenv("WRK_INM")
if inm ~= nil and inm ~= "" then
  wrk.headers["If-None-Match"] = inm
end

-- One machine-readable line at the end (no per-response hook, so wrk's hot
-- path stays in C).
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d bytes=%d p50_us=%d p99_us=%d max_us=%d mean_us=%d errors=%d\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(99), latency.max, latency.mean,
    e.connect + e.read + e.write + e.status + e.timeout))
end
EOF

# ------------------------------------------------------------------- start
log "starting origin on 127.0.0.1:$ORIGIN_PORT (CPU $CLIENT_CPU)"
start_proc origin "$CLIENT_CPU" "$BIN/origin" -addr "127.0.0.1:$ORIGIN_PORT"
wait_port origin "$ORIGIN_PORT"

for t in "${TARGETS[@]}"; do
	p=${PORT[$t]}
	log "starting $t on 127.0.0.1:$p (CPU $SERVER_CPU)"
	case "$t" in
	limit)
		start_proc limit "$SERVER_CPU" "$BIN/limit" -addr "127.0.0.1:$p"
		;;
	notmod)
		# NOTMOD_FLAGS is split into words on purpose.
		# shellcheck disable=SC2086
		start_proc notmod "$SERVER_CPU" "$BIN/notmod" serve -listen "127.0.0.1:$p" \
			-origin "http://127.0.0.1:$ORIGIN_PORT" $NOTMOD_FLAGS
		;;
	notmod-net)
		# shellcheck disable=SC2086
		start_proc notmod-net "$SERVER_CPU" "$BIN/notmod" serve -listen "127.0.0.1:$p" \
			-origin "http://127.0.0.1:$ORIGIN_PORT" -admin "" -front net $NOTMOD_FLAGS
		;;
	varnish)
		# One CPU: one thread pool; 100 idle workers cover the 50 connections.
		start_proc varnish "$SERVER_CPU" varnishd -F \
			-a "127.0.0.1:$p" -T "127.0.0.1:$VARNISH_ADMIN_PORT" \
			-n "$WORK/varnish" -f "$WORK/varnish.vcl" -s "$VARNISH_STORAGE" \
			-p thread_pools=1 -p thread_pool_min=100 -p thread_pool_max=1000
		;;
	nginx)
		start_proc nginx "$SERVER_CPU" nginx -p "$WORK/nginx/" -c "$WORK/nginx.conf" \
			-e "$WORK/logs/nginx-error.log"
		;;
	*)
		# This shell never leaves INVOKE_DIR, so COMMAND runs from there.
		start_proc "$t" "$SERVER_CPU" env ORIGIN_PORT="$ORIGIN_PORT" \
			ORIGIN_URL="http://127.0.0.1:$ORIGIN_PORT" PORT="$p" BIN="$BIN" bash -c "${CMD[$t]}"
		;;
	esac
	wait_port "$t" "$p"
done
sleep 1 # let Varnish's child and nginx's worker settle

# --------------------------------------------------------------- helpers
CURL=(curl -s --noproxy '*' --max-time 10)
origin_total() {
	"${CURL[@]}" "http://127.0.0.1:$ORIGIN_PORT/_stats" | sed -E 's/.*"total":([0-9]+).*/\1/'
}
etag_of() { # path
	"${CURL[@]}" -o /dev/null -D - "http://127.0.0.1:$ORIGIN_PORT$1" |
		awk -F': ' 'tolower($1)=="etag"{sub(/\r$/,"",$2); print $2}'
}
# header_of FILE NAME: the values of field NAME in a curl -D dump, joined
# with ", " as field lines are (RFC 9110 §5.3).
header_of() {
	awk -v n="$(echo "$2" | tr 'A-Z' 'a-z')" -F': ' '
		{ sub(/\r$/, "") }
		tolower($1) == n { v = v (v == "" ? "" : ", ") substr($0, length($1) + 3) }
		END { print v }' "$1"
}
# hit_label TARGET HEADER-FILE: "yes" when the response says it was a cache
# hit in the target's own words, "no" when it does not, "n/a" when the
# target has no such label. notmod: a Cache-Status member named notmod with
# the hit parameter (RFC 9211 §2.1).
hit_label() {
	local v
	case "$1" in
	notmod | notmod-net)
		v=$(header_of "$2" Cache-Status)
		echo "$v" | awk -F',' '{
			for (i = 1; i <= NF; i++) {
				m = $i; gsub(/[ \t]/, "", m)
				if (m ~ /^notmod;/ && (m ";") ~ /;hit;/) { print "yes"; exit }
			}
			print "no" }'
		;;
	nginx) [[ "$(header_of "$2" X-Cache-Status)" == HIT ]] && echo yes || echo no ;;
	varnish) [[ "$(header_of "$2" X-Cache)" == HIT ]] && echo yes || echo no ;;
	*) echo n/a ;;
	esac
}
group_pids() { ps -o pid= -g "$1" 2>/dev/null | tr -s ' \n' ' '; }
# CPU ticks (user+sys, all threads) used so far by a process group.
group_ticks() {
	local p sum=0 t
	for p in $(group_pids "$1"); do
		t=$(awk '{sub(/.*\) /,""); print $12+$13}' "/proc/$p/stat" 2>/dev/null || echo 0)
		sum=$((sum + t))
	done
	echo "$sum"
}
# busy and total ticks of one CPU from /proc/stat.
cpu_ticks() {
	awk -v c="cpu$1" '$1==c{t=0; for(i=2;i<=NF;i++) t+=$i; print t-$5-$6, t}' /proc/stat
}
cell_path() { echo "/${1%-inm}"; }
file_of() { echo "$1" | tr / _; }

declare -A ETAG=()
paths=$(for c in $CELLS; do cell_path "$c"; done | awk '!seen[$0]++')
for pth in $paths; do
	ETAG[$pth]=$(etag_of "$pth")
	[[ -n "${ETAG[$pth]}" ]] || die "origin gave no ETag for $pth"
	"${CURL[@]}" -o "$WORK/check/ref$(file_of "$pth")" "http://127.0.0.1:$ORIGIN_PORT$pth"
done

# ------------------------------------------------------------- cache checks
# For each target: prime (two GETs per path), then GET each path once more
# and send If-None-Match with the origin's ETag for each path; the origin's
# request counter must not move (the limit server never talks to it).
CHECKS=$WORK/checks.tsv
printf 'target\tget\tinm\torigin_delta\tevidence\tok\twhy\n' >"$CHECKS"
CHECK_FAIL=0
fail() { # reason: mark the current target's check as failed
	ok=no
	why+="${why:+; }$*"
}
for t in "${TARGETS[@]}"; do
	base="http://127.0.0.1:${PORT[$t]}"
	for pth in $paths; do
		"${CURL[@]}" -o /dev/null "$base$pth" || true
		"${CURL[@]}" -o /dev/null "$base$pth" || true
	done
	sleep 0.2
	o0=$(origin_total)
	get="" inm="" ok=yes evidence="" why=""
	for pth in $paths; do
		f=$WORK/check/$t$(file_of "$pth")
		code=$("${CURL[@]}" -D "$f.hdr" -o "$f.body" -w '%{http_code}' "$base$pth" || echo 000)
		size=$(stat -c %s "$f.body" 2>/dev/null || echo 0)
		same=identical
		if ! cmp -s "$f.body" "$WORK/check/ref$(file_of "$pth")"; then
			same=DIFFERENT
			fail "GET $pth: body differs from the origin's"
		fi
		[[ "$code" == 200 ]] || fail "GET $pth: status $code, want 200"
		hit=$(hit_label "$t" "$f.hdr")
		[[ "$hit" != no ]] || fail "GET $pth: no hit label in the response"
		get+="${get:+, }$pth $code ${size}B $same"
		if [[ -z "$evidence" ]]; then
			evidence=$(grep -i -E '^(x-cache|x-cache-status|cache-status|age|x-varnish):' "$f.hdr" |
				tr -d '\r' | awk '{printf "%s%s", (NR > 1 ? " / " : ""), $0}' || true)
		fi
	done
	for pth in $paths; do
		f=$WORK/check/$t-inm$(file_of "$pth")
		code=$("${CURL[@]}" -D "$f.hdr" -o "$f.body" -w '%{http_code}' -H "If-None-Match: ${ETAG[$pth]}" "$base$pth" || echo 000)
		size=$(stat -c %s "$f.body" 2>/dev/null || echo 0)
		[[ "$code" == 304 ]] || fail "If-None-Match $pth: status $code, want 304"
		((size == 0)) || fail "If-None-Match $pth: 304 with a ${size}-byte body"
		etag=$(header_of "$f.hdr" ETag)
		[[ "$etag" == "${ETAG[$pth]}" ]] || fail "If-None-Match $pth: 304 ETag '$etag', want '${ETAG[$pth]}'"
		hit=$(hit_label "$t" "$f.hdr")
		[[ "$hit" != no ]] || fail "If-None-Match $pth: no hit label in the 304"
		inm+="${inm:+, }$pth $code"
	done
	sleep 0.2
	o1=$(origin_total)
	od=$((o1 - o0))
	if [[ "$t" != limit ]] && ((od != 0)); then fail "$od requests reached the origin"; fi
	[[ "$ok" == yes ]] || CHECK_FAIL=1
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$get" "$inm" "$od" "${evidence:-none}" "$ok" "${why:-}" >>"$CHECKS"
	log "check $t: GET [$get] INM [$inm] origin requests $od -> $ok${why:+ ($why)}"
done

# ------------------------------------------------------------------ matrix
RES=$WORK/results.tsv
printf 'round\tcell\ttarget\trequests\tduration_us\tbytes\tp50_us\tp99_us\tmax_us\tmean_us\terrors\trps\tsrv_cpu_pct\twrk_cpu_pct\tsrv_core_busy_pct\tcli_core_busy_pct\torigin_delta\n' >"$RES"
CLK_TCK=$(getconf CLK_TCK)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$(date +%s)

run_wrk() { # port path inm seconds outfile
	local port=$1 path=$2 inm=$3 secs=$4 out=$5
	(
		WRK_INM=$inm timeout -k 5 $((secs + 15)) taskset -c "$CLIENT_CPU" \
			wrk -t1 -c"$CONNS" -d"${secs}s" --timeout 5s --latency \
			-s "$WORK/wrk.lua" "http://127.0.0.1:$port$path" >"$out" 2>&1 || echo "wrk exit $?" >>"$out"
		times >"$out.times"
	)
}
secs_of() { # bash `times` value like 0m1.230s -> seconds
	echo "$1" | awk '{split($0,a,"m"); sub(/s$/,"",a[2]); print a[1]*60+a[2]}'
}

ncells=$(echo $CELLS | wc -w)
total_runs=$((ROUNDS * ncells * ${#TARGETS[@]}))
if ((ROUNDS > 0 && PREWARM > 0)); then
	log "pre-warm: ${PREWARM}s per target and cell"
	for t in "${TARGETS[@]}"; do
		for c in $CELLS; do
			pth=$(cell_path "$c")
			inm=""
			[[ "$c" == *-inm ]] && inm=${ETAG[$pth]}
			run_wrk "${PORT[$t]}" "$pth" "$inm" "$PREWARM" "$WORK/wrk/prewarm-$c-$t"
		done
	done
fi

run=0
log "matrix: $ROUNDS rounds x $ncells cells x ${#TARGETS[@]} targets, ${WARMUP}s warm-up + ${DURATION}s each (~$((total_runs * (WARMUP + DURATION + 1)))s)"
for ((r = 1; r <= ROUNDS; r++)); do
	for c in $CELLS; do
		pth=$(cell_path "$c")
		inm=""
		[[ "$c" == *-inm ]] && inm=${ETAG[$pth]}
		for t in "${TARGETS[@]}"; do
			run=$((run + 1))
			p=${PORT[$t]}
			kill -0 "${PGID[$t]}" 2>/dev/null || die "$t is no longer running"
			out=$WORK/wrk/r$r-$c-$t
			if ((WARMUP > 0)); then run_wrk "$p" "$pth" "$inm" "$WARMUP" "$out.warmup"; fi
			o0=$(origin_total)
			g0=$(group_ticks "${PGID[$t]}")
			read -r sb0 st0 < <(cpu_ticks "$SERVER_CPU")
			read -r cb0 ct0 < <(cpu_ticks "$CLIENT_CPU")
			run_wrk "$p" "$pth" "$inm" "$DURATION" "$out"
			read -r sb1 st1 < <(cpu_ticks "$SERVER_CPU")
			read -r cb1 ct1 < <(cpu_ticks "$CLIENT_CPU")
			g1=$(group_ticks "${PGID[$t]}")
			o1=$(origin_total)
			line=$(grep '^RESULT ' "$out" || true)
			if [[ -z "$line" ]]; then
				log "run $run/$total_runs r$r $c $t: wrk gave no result:"
				tail -n 5 "$out" >&2
				continue
			fi
			declare -A R=()
			for kv in ${line#RESULT }; do R[${kv%%=*}]=${kv#*=}; done
			ut=$(secs_of "$(sed -n 2p "$out.times" | awk '{print $1}')")
			st=$(secs_of "$(sed -n 2p "$out.times" | awk '{print $2}')")
			vals=$(awk -v n="${R[requests]}" -v d="${R[duration_us]}" -v g=$((g1 - g0)) -v hz="$CLK_TCK" \
				-v ut="$ut" -v st="$st" -v sb=$((sb1 - sb0)) -v stt=$((st1 - st0)) -v cb=$((cb1 - cb0)) -v ctt=$((ct1 - ct0)) \
				'BEGIN{ s=d/1e6; printf "%.1f\t%.1f\t%.1f\t%.1f\t%.1f", n/s, 100*g/hz/s, 100*(ut+st)/s, (stt?100*sb/stt:0), (ctt?100*cb/ctt:0) }')
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$c" "$t" \
				"${R[requests]}" "${R[duration_us]}" "${R[bytes]}" "${R[p50_us]}" "${R[p99_us]}" \
				"${R[max_us]}" "${R[mean_us]}" "${R[errors]}" "$vals" "$((o1 - o0))" >>"$RES"
			log "run $run/$total_runs r$r $c $t: $(echo "$vals" | cut -f1) req/s, p99 ${R[p99_us]}us, errors ${R[errors]}, origin +$((o1 - o0)), srv/wrk CPU $(echo "$vals" | cut -f2)%/$(echo "$vals" | cut -f3)%"
			unset R
		done
	done
done
T_END=$(date +%s)
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ------------------------------------------------------------- memory, stats
MEM=$WORK/mem.tsv
printf 'target\trss_kb\tpss_kb\tnprocs\n' >"$MEM"
for t in "${TARGETS[@]}"; do
	rss=0 pss=0 n=0
	for p in $(group_pids "${PGID[$t]}"); do
		r=$(awk '/^VmRSS:/{print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
		s=$(awk '/^Pss:/{print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
		rss=$((rss + ${r:-0}))
		pss=$((pss + ${s:-0}))
		n=$((n + 1))
	done
	printf '%s\t%s\t%s\t%s\n' "$t" "$rss" "$pss" "$n" >>"$MEM"
done
VARNISH_STATS=""
if [[ -n "${KIND[varnish]:-}" ]]; then
	VARNISH_STATS=$(varnishstat -n "$WORK/varnish" -1 -f MAIN.client_req -f MAIN.cache_hit -f MAIN.cache_miss 2>/dev/null |
		awk '{printf "%s%s=%s", (NR>1?", ":""), $1, $2}') || true
fi
ORIGIN_STATS=$("${CURL[@]}" "http://127.0.0.1:$ORIGIN_PORT/_stats" || true)
[[ -n "$RAW_OUT" ]] && cp "$RES" "$RAW_OUT"

for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do stop_group "${STARTED[$i]}"; done
STARTED=()

# ------------------------------------------------------------------ report
TARGET_LIST="${TARGETS[*]}"
versions() {
	local v
	v="$(go version | awk '{print $3}'), notmod $NOTMOD_REV"
	[[ -n "${KIND[nginx]:-}" ]] && v+=", $(nginx -v 2>&1 | sed 's/.*version: //')"
	[[ -n "${KIND[varnish]:-}" ]] && v+=", $(varnishd -V 2>&1 | head -n1 | sed -E 's/^varnishd \((varnish-[^ ]+).*/\1/')"
	v+=", $(wrk -v 2>&1 | head -n1 | awk '{print "wrk " $2}')"
	echo "$v"
}
{
	echo "# notmod cache-hit throughput: $(date -u +'%Y-%m-%d %H:%M UTC')"
	echo
	echo "Command (every knob spelled out):"
	echo
	echo '```sh'
	echo "$COMMAND"
	echo '```'
	echo
	for t in "${TARGETS[@]}"; do
		[[ "${KIND[$t]}" == extra ]] && echo "- Extra target \`$t\` on port ${PORT[$t]}: \`${CMD[$t]}\`"
	done
	echo "- Machine: $(nproc) CPUs ($(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, Linux $(uname -r)"
	echo "- Software: $(versions)"
	echo "- Method: wrk -t1 -c$CONNS --latency; ${PREWARM}s pre-warm per target and cell before round 1, then ${WARMUP}s warm-up + ${DURATION}s measured per run; $ROUNDS rounds, interleaved (per round, per cell: ${TARGET_LIST// / → }); server under test pinned to CPU $SERVER_CPU, wrk and origin to CPU $CLIENT_CPU (taskset). All on 127.0.0.1."
	echo "- Cells: \`1k\` = GET /1k (1 KiB, 200 from cache), \`100k\` = GET /100k (100 KiB, 200 from cache), \`1m\` = GET /1m, \`*-inm\` = GET with the current ETag in If-None-Match (304 from cache)."
	echo "- Matrix ran $((T_END - T_START)) s; load average $LOAD_START at start, $LOAD_END at end."
	for n in "${NOTES[@]}"; do echo "- $n"; done
	echo
	if ((ROUNDS == 0)); then echo "No load runs (ROUNDS=0): cache checks only."; fi
	((ROUNDS == 0)) || awk -F'\t' -v targets="$TARGET_LIST" -v cells="$CELLS" -v memf="$MEM" -v havelimit="$HAVE_LIMIT" -v scpu="$SERVER_CPU" '
	function median(key, cnt,   i, j, a, tmp) {
		for (i = 1; i <= cnt; i++) a[i] = V[key, i] + 0
		for (i = 2; i <= cnt; i++) { tmp = a[i]; j = i - 1; while (j >= 1 && a[j] > tmp) { a[j+1] = a[j]; j-- } a[j+1] = tmp }
		if (cnt == 0) return ""
		if (cnt % 2) return a[(cnt + 1) / 2]
		return (a[cnt/2] + a[cnt/2 + 1]) / 2
	}
	function med(field, t, c) { return median(field SUBSEP t SUBSEP c, N[t, c]) }
	function ratio(x, y) { return (havelimit && y > 0 && x != "") ? sprintf("%.2f", x / y) : "n/a" }
	function ms(us) { return us == "" ? "n/a" : sprintf("%.2f ms", us / 1000) }
	function mib(kb) { return sprintf("%.1f", kb / 1024) }
	BEGIN {
		nt = split(targets, T, " "); nc = split(cells, C, " ")
		while ((getline line < memf) > 0) { split(line, m, "\t"); RSS[m[1]] = m[2]; PSS[m[1]] = m[3]; NP[m[1]] = m[4] }
	}
	NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
	{
		t = $col["target"]; c = $col["cell"]; k = ++N[t, c]
		split("rps p99_us p50_us srv_cpu_pct wrk_cpu_pct srv_core_busy_pct cli_core_busy_pct", F, " ")
		for (f in F) V[F[f], t, c, k] = $col[F[f]]
		V["bpr", t, c, k] = ($col["requests"] > 0) ? $col["bytes"] / $col["requests"] : 0
		ERR[t, c] += $col["errors"]; OD[t, c] += $col["origin_delta"]
		ROUNDS_RPS[t, c] = ROUNDS_RPS[t, c] (k > 1 ? " / " : "") sprintf("%.0f", $col["rps"])
	}
	END {
		print "## Summary (median req/s and p99, ratio to limit in brackets)"
		print ""
		hdr = "| target |"; sep = "|---|"
		for (j = 1; j <= nc; j++) { hdr = hdr " " C[j] " req/s | " C[j] " p99 |"; sep = sep "---:|---:|" }
		print hdr " RSS after runs |"; print sep "---:|"
		for (i = 1; i <= nt; i++) {
			t = T[i]; row = "| " t " |"
			for (j = 1; j <= nc; j++) {
				c = C[j]; r = med("rps", t, c); p = med("p99_us", t, c)
				row = row sprintf(" %s (%s) | %s (%s) |", (r == "" ? "n/a" : sprintf("%.0f", r)), ratio(r, med("rps", "limit", c)), ms(p), ratio(p, med("p99_us", "limit", c)))
			}
			print row " " mib(RSS[t]) " MiB |"
		}
		print ""
		print "## Per cell"
		print ""
		print "| cell | target | req/s (median) | ÷ limit | p99 (median) | ÷ limit | p50 (median) | req/s by round | bytes/resp | server CPU % | server core busy % | wrk CPU % | wrk core busy % | errors | origin requests |"
		print "|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"
		for (j = 1; j <= nc; j++) for (i = 1; i <= nt; i++) {
			c = C[j]; t = T[i]; if (!N[t, c]) continue
			r = med("rps", t, c); p = med("p99_us", t, c)
			printf "| %s | %s | %.0f | %s | %s | %s | %s | %s | %.0f | %.0f | %.0f | %.0f | %.0f | %d | %d |\n", c, t, r, ratio(r, med("rps", "limit", c)), ms(p), ratio(p, med("p99_us", "limit", c)), ms(med("p50_us", t, c)), ROUNDS_RPS[t, c], med("bpr", t, c), med("srv_cpu_pct", t, c), med("srv_core_busy_pct", t, c), med("wrk_cpu_pct", t, c), med("cli_core_busy_pct", t, c), ERR[t, c], OD[t, c]
		}
		nf = 0
		for (j = 1; j <= nc; j++) for (i = 1; i <= nt; i++) {
			c = C[j]; t = T[i]; if (!N[t, c]) continue
			w = med("wrk_cpu_pct", t, c); sc = med("srv_cpu_pct", t, c); sb = med("srv_core_busy_pct", t, c)
			if (w >= 90) { if (!nf++) print ""; printf "- %s %s: wrk used %.0f%% of its core, so this figure is bounded by the load generator (the server may be faster).\n", t, c, w }
			if (sb - sc >= 10) { if (!nf++) print ""; printf "- %s %s: CPU %s was %.0f%% busy but the server used %.0f%%: other load shared its core.\n", t, c, scpu, sb, sc }
		}
		print ""
		print "## Memory after the runs"
		print ""
		print "| target | RSS (MiB, sum over its processes) | PSS (MiB) | processes |"
		print "|---|---:|---:|---:|"
		for (i = 1; i <= nt; i++) { t = T[i]; printf "| %s | %s | %s | %s |\n", t, mib(RSS[t]), mib(PSS[t]), NP[t] }
	}' "$RES"
	echo
	echo "## Cache checks (before the matrix)"
	echo
	echo "Each target was primed with two GETs per path, then sent one more GET and one If-None-Match (the origin's ETag) per path. A target passes when every GET is a 200 whose body is byte-identical to the origin's, every If-None-Match is a 304 with no body and the origin's ETag, the origin's request counter did not move (\"origin requests\"; the limit server has no origin) and the response says hit in the target's own words (notmod: a \`Cache-Status\` member \`notmod; hit\`; nginx: \`X-Cache-Status: HIT\`; Varnish: \`X-Cache: HIT\`)."
	echo
	echo "| target | GET (status, size, body vs origin) | If-None-Match | origin requests | hit evidence (first GET's headers) | ok |"
	echo "|---|---|---|---:|---|---|"
	awk -F'\t' 'NR>1{gsub(/\|/,"\\|"); printf "| %s | %s | %s | %s | %s | %s%s |\n", $1, $2, $3, ($1=="limit"?"n/a":$4), $5, $6, ($7==""?"":": " $7)}' "$CHECKS"
	echo
	[[ -n "$VARNISH_STATS" ]] && echo "- varnishstat at the end: $VARNISH_STATS" && echo
	echo "- Origin counters at the end: \`$ORIGIN_STATS\`"
	echo
	echo "## Configurations"
	echo
	gmp() { grep -o 'GOMAXPROCS=[0-9]*' "$WORK/logs/$1.log" 2>/dev/null | head -n1 || true; }
	for t in "${TARGETS[@]}"; do
		case "$t" in
		limit) echo "- limit: bench/limit, plain net/http; bodies and field values built once in memory; If-None-Match -> 304; no cache logic ($(gmp limit))." ;;
		notmod) echo "- notmod: \`notmod serve -listen 127.0.0.1:${PORT[notmod]} -origin http://127.0.0.1:$ORIGIN_PORT${NOTMOD_FLAGS:+ $NOTMOD_FLAGS}\`: the fast front end (fasthttp, the default), memory store, default flags otherwise (GOMAXPROCS from the CPU affinity: 1)." ;;
		notmod-net) echo "- notmod-net: \`notmod serve -listen 127.0.0.1:${PORT[notmod-net]} -origin http://127.0.0.1:$ORIGIN_PORT -admin '' -front net${NOTMOD_FLAGS:+ $NOTMOD_FLAGS}\`: the net/http front end, same cache." ;;
		varnish) echo "- varnish: \`varnishd -F -s $VARNISH_STORAGE -p thread_pools=1 -p thread_pool_min=100 -p thread_pool_max=1000\`; builtin VCL plus an X-Cache header in vcl_deliver; shared-memory log as shipped (no varnishlog attached)." ;;
		nginx) echo "- nginx: 1 worker; \`proxy_cache_path\` on /dev/shm (tmpfs), keys_zone 10m, max_size 256m; access_log off; $([[ "$NGINX_OFC" == 1 ]] && echo 'open_file_cache max=1000 (valid 60s, min_uses 1)' || echo 'no open_file_cache'); sendfile on, tcp_nopush off, tcp_nodelay on; keepalive_requests 10000000; upstream keepalive 16; X-Cache-Status header." ;;
		*) echo "- $t: extra target, \`${CMD[$t]}\` ($(gmp "$t"))." ;;
		esac
	done
	echo "- origin: bench/origin (net/http ServeContent), pinned with wrk to CPU $CLIENT_CPU; only reached while priming."
	echo "- Go programs run with default GC settings; GOMAXPROCS follows the CPU affinity (1 core)."
	echo
	echo "## Notes"
	echo
	echo "- Ratios are against the limit server measured in the same interleaved run; prefer them to absolute figures. A req/s ratio above 1 is faster than the limit; a p99 ratio above 1 is slower."
	echo "- \"server CPU %\" is the CPU time of the target's processes during the measured run (100 = one full core); \"server core busy %\" is how busy CPU $SERVER_CPU was in total (other processes and kernel work included). \"wrk CPU %\" near 100 means the load generator, not the server, may be the bottleneck."
	echo "- \"origin requests\" counts origin requests during the measured runs: 0 means every request was served from cache. \"bytes/resp\" (headers + body, from wrk) shows what was served: ~1.3 KB for a 1 KiB 200, ~100 KB for /100k, a few hundred bytes for a 304."
	echo "- wrk (not wrk2) is a closed loop: p99 reflects queueing at $CONNS connections, not an open-loop SLO."
	if ((CHECK_FAIL)); then echo "- **At least one cache check failed: see the table above.**"; fi
	awk -F'\t' 'NR>1 && $11>0 {e[$3" "$2]+=$11} END{for(k in e) printf "- **%s: %d wrk errors (connect/read/write/status/timeout)**\n", k, e[k]}' "$RES"
	awk -F'\t' 'NR>1 && $17>0 && $3!="limit" {o[$3" "$2]+=$17} END{for(k in o) printf "- **%s: %d requests reached the origin during measured runs (not pure hits)**\n", k, o[k]}' "$RES"
} || die "report failed"
log "done"
