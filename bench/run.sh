#!/usr/bin/env bash
# Load benchmark: roxy vs Squid vs direct, all on loopback (see docs/bench.md).
#   make bench                      # or: bash bench/run.sh [options]
#   bash bench/run.sh --help        # options (duration, rounds, --memory, ...)
#
# This wrapper installs wrk, squid and nginx from Debian when missing, owns
# the temporary directory, and on exit (normal, error or Ctrl-C) kills every
# process group bench/run.ts started, which it lists in $WORKDIR/pgids.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

case " $* " in
  *' -h '* | *' --help '*) ;;
  *)
    fresh=()
    for cmd in squid nginx; do
      command -v "$cmd" >/dev/null 2>&1 || fresh+=("$cmd")
    done
    bash scripts/system-deps.sh wrk squid nginx
    # A freshly installed package may have started its system service (squid
    # on 3128, nginx on 80); only our own instances on temp configs may run.
    for svc in "${fresh[@]}"; do
      if service "$svc" status >/dev/null 2>&1; then
        echo "stopping the $svc service the package started" >&2
        service "$svc" stop >/dev/null 2>&1 || true
      fi
    done
    ;;
esac

if [ -n "${BUN:-}" ]; then
  bun=$BUN
elif [ -x .tools/bun/node_modules/.bin/bun ]; then
  bun=.tools/bun/node_modules/.bin/bun
else
  bun=bun
fi

workdir=$(mktemp -d "${TMPDIR:-/tmp}/roxy-bench.XXXXXX")
chmod 755 "$workdir" # squid drops to the proxy user and must reach its subdirectory

runner=
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ -n "$runner" ]; then
    kill -TERM "$runner" 2>/dev/null || true
    wait "$runner" 2>/dev/null || true
  fi
  if [ -f "$workdir/pgids" ]; then
    local pgid
    while read -r pgid; do
      kill -TERM -- "-$pgid" 2>/dev/null || true
    done <"$workdir/pgids"
    sleep 0.5
    while read -r pgid; do
      kill -KILL -- "-$pgid" 2>/dev/null || true
    done <"$workdir/pgids"
  fi
  if [ -n "${BENCH_KEEP:-}" ]; then
    echo "bench files kept in $workdir" >&2
  else
    rm -rf "$workdir"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# In the background and waited for, so that a signal to this shell runs the trap at once.
"$bun" bench/run.ts --workdir "$workdir" "$@" &
runner=$!
wait "$runner" || status=$?
runner=
exit "${status:-0}"
