#!/usr/bin/env bash
# Memory of the shipped executable (docs/memory.md, SPEC §9).
#
#   bash bench/memory.sh table   RSS idle / peak under load / 30 s after load,
#                                for each allocator and runtime setting
#   bash bench/memory.sh wake    the first request after a quiet spell: time
#                                and page faults, with and without the idle
#                                release of code pages
#   bash bench/memory.sh pool    RSS per pooled upstream connection
#
# Measures dist/roxy (ROXY_BIN to override), built first by `make build`.
# Everything listens on 127.0.0.1, port 0; every process started here is
# killed on exit. Needs wrk, curl and bun on PATH (the Makefile's `bench`
# target puts the pinned bun there).
#
# Each row is the median of REPEAT runs, each on a fresh roxy.
# Knobs (environment): LOAD_SECS=10 CONNS=32 AFTER_SECS=30 SETTLE_SECS=15
# QUIET_SECS=15 REPEAT=3 POOL_HOSTS=500
# SETTINGS='name|ENV=V ENV2=V2;...' (see default_settings and wake_settings).
set -euo pipefail
cd "$(dirname "$0")/.."

ROXY_BIN=${ROXY_BIN:-dist/roxy}
LOAD_SECS=${LOAD_SECS:-10}
CONNS=${CONNS:-32}
AFTER_SECS=${AFTER_SECS:-30}
# Idle is read 15 s after start: roxy releases its code pages after 10 quiet
# seconds (docs/memory.md), and the idle figure is meant to include that.
SETTLE_SECS=${SETTLE_SECS:-15}
POOL_HOSTS=${POOL_HOSTS:-500}
REPEAT=${REPEAT:-3}
QUIET_SECS=${QUIET_SECS:-15}

tuned='BUN_OPTIONS=--smol MIMALLOC_PURGE_DELAY=0 MIMALLOC_ARENA_EAGER_COMMIT=0'
default_settings='default|'
default_settings+=';ROXY_IDLE_TRIM=off|ROXY_IDLE_TRIM=off'
default_settings+=';MIMALLOC_PURGE_DELAY=0|MIMALLOC_PURGE_DELAY=0'
default_settings+=';MIMALLOC_PURGE_DELAY=0 MIMALLOC_ARENA_EAGER_COMMIT=0|'
default_settings+='MIMALLOC_PURGE_DELAY=0 MIMALLOC_ARENA_EAGER_COMMIT=0'
default_settings+=';BUN_OPTIONS=--smol|BUN_OPTIONS=--smol'
default_settings+=";tuned: --smol + both mimalloc settings|$tuned"
default_settings+=";tuned + BUN_JSC_useFTLJIT=0|$tuned BUN_JSC_useFTLJIT=0"
default_settings+=";tuned + BUN_JSC_useDFGJIT=0|$tuned BUN_JSC_useDFGJIT=0"
wake_settings='default|;ROXY_IDLE_TRIM=off|ROXY_IDLE_TRIM=off'
case "${1:-table}" in
wake) SETTINGS=${SETTINGS:-$wake_settings} ;;
*) SETTINGS=${SETTINGS:-$default_settings} ;;
esac

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
# A ROXY_BIN=PATH word among them runs that executable instead (to compare
# builds in one interleaved table).
start_roxy() {
  local env_words=$1 log=$work/roxy.$RANDOM.log bin=$ROXY_BIN word
  for word in $env_words; do
    case $word in
    ROXY_BIN=*) bin=${word#ROXY_BIN=} ;;
    esac
  done
  printf 'listen: "127.0.0.1:0"\n' >"$work/roxy.yaml"
  # shellcheck disable=SC2086 # env_words is a list of NAME=VALUE words
  env $env_words "$bin" run -c "$work/roxy.yaml" >"$log" 2>"$log.err" &
  ROXY_PID=$!
  pids+=("$ROXY_PID")
  ROXY_PORT=$(wait_line "$log" '"msg":"listening"' | sed -n 's/.*"address":"[^"]*:\([0-9]*\)".*/\1/p')
  [ -n "$ROXY_PORT" ] || die "roxy did not log its address: $(cat "$log" "$log.err")"
}

# Stops a process started here and forgets it, so that cleanup never signals
# a process id the system may have handed to someone else since.
stop_pid() {
  local pid kept=()
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  for pid in "${pids[@]}"; do
    if [ "$pid" != "$1" ]; then
      kept+=("$pid")
    fi
  done
  pids=("${kept[@]}")
}

# One run: idle, peak under wrk load (VmHWM), RSS AFTER_SECS later and its
# anonymous and file-backed parts, req/s. Prints the six numbers on one line.
measure_once() {
  local env_words=$1 up_port=$2 idle peak after anon file rps
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
  file=$(rss_mb "$ROXY_PID" RssFile)
  stop_pid "$ROXY_PID"
  echo "$idle $peak $after $anon $file $rps"
}

# One table row from a file of runs: the median of each column.
print_row() {
  local name=$1 runs=$2 col
  printf '| `%s` |' "$name"
  for col in 1 2 3 4 5; do
    printf ' %s MB |' "$(median "$runs" "$col")"
  done
  printf ' %s |\n' "$(median "$runs" 6)"
}

# median FILE COLUMN: the middle value of a column of numbers (lower middle if even).
median() {
  awk -v c="$2" '{ print $c }' "$1" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# REPEAT rounds, each running every setting once on a fresh roxy. Interleaved,
# so that a change in the machine's load or page cache falls on all settings
# alike; each cell is then the median of its setting's runs.
run_table() {
  local up_port entry anchor round i
  start_upstreams 1
  up_port=$UP_PORTS
  sleep "$SETTLE_SECS"
  anchor=$(rss_mb "$UP_PID" VmRSS)
  IFS=';' read -ra entries <<<"$SETTINGS"
  for round in $(seq 1 "$REPEAT"); do
    for i in "${!entries[@]}"; do
      entry=${entries[$i]}
      echo "round $round/$REPEAT: ${entry%%|*}" >&2
      measure_once "${entry#*|}" "$up_port" >>"$work/runs.$i"
    done
  done
  echo "roxy: $("$ROXY_BIN" --version); idle = ${SETTLE_SECS} s after start;" \
    "wrk -t1 -c$CONNS -d${LOAD_SECS}s; after = ${AFTER_SECS} s; median of $REPEAT runs"
  echo
  echo "| setting | RSS idle | RSS peak under load | RSS ${AFTER_SECS} s after load |" \
    "of which anonymous | of which file-backed | req/s |"
  echo '|---|---|---|---|---|---|---|'
  for i in "${!entries[@]}"; do
    print_row "${entries[$i]%%|*}" "$work/runs.$i"
  done
  printf '| anchor: bare `Bun.serve` (`bun bench/upstream-ok.ts`) | %s MB | – | – | – | – | – |\n' \
    "$anchor"
}

# Minor and major page faults of a process so far: "MINFLT MAJFLT".
read_faults() {
  awk '{ print $10, $12 }' "/proc/$1/stat"
}

# Milliseconds one proxied request takes, as curl sees it.
time_request_ms() {
  curl -sS --fail -o /dev/null -w '%{time_total}' -x "http://127.0.0.1:$1" \
    "http://127.0.0.1:$2/" | awk '{ printf "%.2f", $1 * 1000 }'
}

# One run: 3 s of load, QUIET_SECS of nothing, then one request (its time and
# the page faults roxy took serving it), then a second one. Prints
# "MS MINFLT MAJFLT MS2".
measure_wake_once() {
  local env_words=$1 up_port=$2 before after first second
  start_roxy "$env_words"
  printf 'wrk.path = "http://127.0.0.1:%s/"\n' "$up_port" >"$work/abs.lua"
  wrk -t1 -c"$CONNS" -d3s -s "$work/abs.lua" "http://127.0.0.1:$ROXY_PORT" >/dev/null
  sleep "$QUIET_SECS"
  before=$(read_faults "$ROXY_PID")
  first=$(time_request_ms "$ROXY_PORT" "$up_port")
  after=$(read_faults "$ROXY_PID")
  second=$(time_request_ms "$ROXY_PORT" "$up_port")
  stop_pid "$ROXY_PID"
  awk -v a="$before" -v b="$after" -v f="$first" -v s="$second" 'BEGIN {
    split(a, x, " "); split(b, y, " "); print f, y[1] - x[1], y[2] - x[2], s
  }'
}

run_wake() {
  local up_port entry round i col
  start_upstreams 1
  up_port=$UP_PORTS
  IFS=';' read -ra entries <<<"$SETTINGS"
  for round in $(seq 1 "$REPEAT"); do
    for i in "${!entries[@]}"; do
      entry=${entries[$i]}
      echo "round $round/$REPEAT: ${entry%%|*}" >&2
      measure_wake_once "${entry#*|}" "$up_port" >>"$work/wake.$i"
    done
  done
  echo "roxy: $("$ROXY_BIN" --version); 3 s of load, ${QUIET_SECS} s quiet, then one request;" \
    "median of $REPEAT runs"
  echo
  echo '| setting | first request | minor faults | major faults | next request |'
  echo '|---|---|---|---|---|'
  for i in "${!entries[@]}"; do
    printf '| `%s` |' "${entries[$i]%%|*}"
    for col in 1 2 3; do
      printf ' %s%s |' "$(median "$work/wake.$i" "$col")" "$([ "$col" = 1 ] && echo ' ms')"
    done
    printf ' %s ms |\n' "$(median "$work/wake.$i" 4)"
  done
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
wake) run_wake ;;
pool) run_pool ;;
*) die "usage: $0 [table|wake|pool]" ;;
esac
