#!/usr/bin/env bash
# Memory of the shipped executable (docs/memory.md, SPEC §9).
#
#   bash bench/memory.sh table   RSS idle / peak under load / 30 s after load,
#                                for each allocator and runtime setting
#   bash bench/memory.sh pool    RSS per pooled upstream connection
#
# Measures dist/roxy (ROXY_BIN to override), built first by `make build`.
# Everything listens on 127.0.0.1, port 0; every process started here is
# killed on exit. Needs wrk, curl and bun on PATH (the Makefile's `bench`
# target puts the pinned bun there).
#
# Each table row is the median of REPEAT runs, each on a fresh roxy.
# Knobs (environment): LOAD_SECS=10 CONNS=32 AFTER_SECS=30 SETTLE_SECS=5
# REPEAT=3 POOL_HOSTS=500 SETTINGS='name|ENV=V ENV2=V2;...' (see default_settings).
set -euo pipefail
cd "$(dirname "$0")/.."

ROXY_BIN=${ROXY_BIN:-dist/roxy}
LOAD_SECS=${LOAD_SECS:-10}
CONNS=${CONNS:-32}
AFTER_SECS=${AFTER_SECS:-30}
SETTLE_SECS=${SETTLE_SECS:-5}
POOL_HOSTS=${POOL_HOSTS:-500}
REPEAT=${REPEAT:-3}

tuned='BUN_OPTIONS=--smol MIMALLOC_PURGE_DELAY=0 MIMALLOC_ARENA_EAGER_COMMIT=0'
default_settings='default|'
default_settings+=';MIMALLOC_PURGE_DELAY=0|MIMALLOC_PURGE_DELAY=0'
default_settings+=';MIMALLOC_PURGE_DELAY=0 MIMALLOC_ARENA_EAGER_COMMIT=0|'
default_settings+='MIMALLOC_PURGE_DELAY=0 MIMALLOC_ARENA_EAGER_COMMIT=0'
default_settings+=';BUN_OPTIONS=--smol|BUN_OPTIONS=--smol'
default_settings+=";tuned: --smol + both mimalloc settings|$tuned"
default_settings+=";tuned + BUN_JSC_useFTLJIT=0|$tuned BUN_JSC_useFTLJIT=0"
default_settings+=";tuned + BUN_JSC_useDFGJIT=0|$tuned BUN_JSC_useDFGJIT=0"
SETTINGS=${SETTINGS:-$default_settings}

work=$(mktemp -d "${TMPDIR:-/tmp}/roxy-bench.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

die() {
  echo "memory.sh: $*" >&2
  exit 1
}

# RSS fields of /proc/PID/status in MB with one decimal: rss_mb PID VmRSS|VmHWM
rss_mb() {
  awk -v f="$2:" '$1 == f { printf "%.1f", $2 / 1024 }' "/proc/$1/status"
}

# The same in kB: rss_kb PID VmRSS|VmHWM
rss_kb() {
  awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

# Waits (at most 10 s) for a line of FILE matching the grep PATTERN; prints it.
wait_line() {
  local file=$1 pattern=$2 _
  for _ in $(seq 1 200); do
    if grep -m 1 -e "$pattern" "$file" 2>/dev/null; then
      return
    fi
    sleep 0.05
  done
  die "no line matching $pattern in $file after 10 s: $(cat "$file.err" 2>/dev/null)"
}

# start_upstreams N → sets UP_PID and UP_PORTS
start_upstreams() {
  bun bench/upstream-ok.ts "$1" >"$work/up.out" 2>"$work/up.out.err" &
  UP_PID=$!
  pids+=("$UP_PID")
  UP_PORTS=$(wait_line "$work/up.out" '^[0-9]')
}

# start_roxy "ENV=V ..." → sets ROXY_PID and ROXY_PORT; logs go to a file.
start_roxy() {
  local env_words=$1 log=$work/roxy.$RANDOM.log
  printf 'listen: "127.0.0.1:0"\n' >"$work/roxy.yaml"
  # shellcheck disable=SC2086 # env_words is a list of NAME=VALUE words
  env $env_words "$ROXY_BIN" run -c "$work/roxy.yaml" >"$log" 2>"$log.err" &
  ROXY_PID=$!
  pids+=("$ROXY_PID")
  ROXY_PORT=$(wait_line "$log" '"msg":"listening"' | sed -n 's/.*"address":"[^"]*:\([0-9]*\)".*/\1/p')
  [ -n "$ROXY_PORT" ] || die "roxy did not log its address: $(cat "$log" "$log.err")"
}

stop_pid() {
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# One run: idle, peak under wrk load (VmHWM), RSS AFTER_SECS later and its
# anonymous part (the rest is pages of the executable file), req/s.
# Prints the five numbers on one line.
measure_once() {
  local env_words=$1 up_port=$2 idle peak after anon rps
  start_roxy "$env_words"
  sleep "$SETTLE_SECS"
  idle=$(rss_mb "$ROXY_PID" VmRSS)
  printf 'wrk.path = "http://127.0.0.1:%s/"\n' "$up_port" >"$work/abs.lua"
  rps=$(wrk -t1 -c"$CONNS" -d"${LOAD_SECS}s" -s "$work/abs.lua" "http://127.0.0.1:$ROXY_PORT" |
    awk '/^Requests\/sec/ { printf "%.0f", $2 }')
  peak=$(rss_mb "$ROXY_PID" VmHWM)
  sleep "$AFTER_SECS"
  after=$(rss_mb "$ROXY_PID" VmRSS)
  anon=$(rss_mb "$ROXY_PID" RssAnon)
  stop_pid "$ROXY_PID"
  echo "$idle $peak $after $anon $rps"
}

# One table row: the median of REPEAT runs, column by column.
measure_setting() {
  local name=$1 env_words=$2 up_port=$3 runs=$work/runs _
  : >"$runs"
  for _ in $(seq 1 "$REPEAT"); do
    measure_once "$env_words" "$up_port" >>"$runs"
  done
  printf '| `%s` |' "$name"
  for col in 1 2 3 4; do
    printf ' %s MB |' "$(median "$runs" "$col")"
  done
  printf ' %s |\n' "$(median "$runs" 5)"
}

# median FILE COLUMN: the middle value of a column of numbers (lower middle if even).
median() {
  awk -v c="$2" '{ print $c }' "$1" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

run_table() {
  local up_port entry anchor
  start_upstreams 1
  up_port=$UP_PORTS
  sleep "$SETTLE_SECS"
  anchor=$(rss_mb "$UP_PID" VmRSS)
  echo "roxy: $("$ROXY_BIN" --version); wrk -t1 -c$CONNS -d${LOAD_SECS}s;" \
    "after = ${AFTER_SECS} s; median of $REPEAT runs"
  echo
  echo "| setting | RSS idle | RSS peak under load | RSS ${AFTER_SECS} s after load | of which anonymous | req/s |"
  echo '|---|---|---|---|---|---|'
  IFS=';' read -ra entries <<<"$SETTINGS"
  for entry in "${entries[@]}"; do
    measure_setting "${entry%%|*}" "${entry#*|}" "$up_port"
  done
  printf '| anchor: bare `Bun.serve` (`bun bench/upstream-ok.ts`) | %s MB | – | – | – | – |\n' \
    "$anchor"
}

# RSS and open fds of a fresh roxy after one request to each of the given ports.
# Prints "RSS_KB FDS".
pooled_footprint() {
  local port
  start_roxy ""
  : >"$work/curl.cfg"
  for port in "$@"; do
    printf 'url = "http://127.0.0.1:%s/"\noutput = "/dev/null"\n' "$port" >>"$work/curl.cfg"
  done
  curl -sS --fail -x "http://127.0.0.1:$ROXY_PORT" -K "$work/curl.cfg" || die "curl failed"
  sleep 2
  echo "$(rss_kb "$ROXY_PID" VmRSS) $(find "/proc/$ROXY_PID/fd" -mindepth 1 | wc -l)"
  stop_pid "$ROXY_PID"
}

run_pool() {
  local ports one spread same
  start_upstreams "$POOL_HOSTS"
  read -ra ports <<<"$UP_PORTS"
  one=()
  for _ in "${ports[@]}"; do one+=("${ports[0]}"); done
  spread=$(pooled_footprint "${ports[@]}")
  same=$(pooled_footprint "${one[@]}")
  echo "roxy: $("$ROXY_BIN" --version); ${#ports[@]} requests through one client connection"
  echo "to ${#ports[@]} distinct upstream ports: RSS ${spread% *} kB, ${spread#* } fds"
  echo "to one upstream port:             RSS ${same% *} kB, ${same#* } fds"
  awk -v a="$spread" -v b="$same" 'BEGIN {
    split(a, x, " "); split(b, y, " "); conns = x[2] - y[2]
    printf "per pooled connection: %.1f kB (%d connections)\n", (x[1] - y[1]) / conns, conns
  }'
}

command -v wrk >/dev/null || die "wrk is not installed (apt-get install wrk)"
command -v bun >/dev/null || die "bun is not on PATH (run through make, or add .tools/bun)"
make -s build >/dev/null
[ -x "$ROXY_BIN" ] || die "$ROXY_BIN missing"

case "${1:-table}" in
table) run_table ;;
pool) run_pool ;;
*) die "usage: $0 [table|pool]" ;;
esac
