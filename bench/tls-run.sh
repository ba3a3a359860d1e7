#!/usr/bin/env bash
# HTTPS interception benchmark: roxy vs mitmproxy vs http-mitm-proxy, all on loopback
# (see docs/bench.md, "HTTPS interception").
#   make bench-tls                    # or: bash bench/tls-run.sh [options]
#   bash bench/tls-run.sh --help      # options (duration, rounds, --only, ...)
#
# This wrapper installs nginx, openssl, mitmproxy and Node from Debian when missing and
# http-mitm-proxy from npm into bench/.deps (ignored by git, not in package.json), owns
# the temporary directory, and on exit (normal, error or Ctrl-C) kills every process
# group bench/tls-run.ts started, which it lists in $WORKDIR/pgids.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

HTTP_MITM_PROXY_VERSION=1.1.0

case " $* " in
  *' -h '* | *' --help '*) ;;
  *)
    fresh=()
    command -v nginx >/dev/null 2>&1 || fresh+=(nginx)
    bash scripts/system-deps.sh nginx openssl mitmdump=mitmproxy node=nodejs npm
    # A freshly installed nginx may have started its system service on port 80; only
    # the bench's own instance, on a free loopback port and a temp config, may run.
    for svc in "${fresh[@]}"; do
      if service "$svc" status >/dev/null 2>&1; then
        echo "stopping the $svc service the package started" >&2
        service "$svc" stop >/dev/null 2>&1 || true
      fi
    done
    manifest=bench/.deps/node_modules/http-mitm-proxy/package.json
    if ! grep -q "\"version\": \"$HTTP_MITM_PROXY_VERSION\"" "$manifest" 2>/dev/null; then
      echo "installing http-mitm-proxy@$HTTP_MITM_PROXY_VERSION into bench/.deps" >&2
      mkdir -p bench/.deps
      npm install --prefix bench/.deps --no-audit --no-fund --no-save --silent \
        "http-mitm-proxy@$HTTP_MITM_PROXY_VERSION"
    fi
    ;;
esac

if [ -n "${BUN:-}" ]; then
  bun=$BUN
elif [ -x .tools/bun/node_modules/.bin/bun ]; then
  bun=.tools/bun/node_modules/.bin/bun
else
  bun=bun
fi

workdir=$(mktemp -d "${TMPDIR:-/tmp}/roxy-bench-tls.XXXXXX")

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
"$bun" bench/tls-run.ts --workdir "$workdir" "$@" &
runner=$!
wait "$runner" || status=$?
runner=
exit "${status:-0}"
