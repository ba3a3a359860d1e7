#!/usr/bin/env bash
# Usage: scripts/system-deps.sh CMD[=debian-package] ...
# Installs the Debian packages for commands that are not on PATH.
set -euo pipefail
missing=()
for spec in "$@"; do
  cmd=${spec%%=*}
  pkg=${spec#*=}
  command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing: ${missing[*]} (install them with apt-get, or run as root)" >&2
  exit 1
fi
echo "installing from Debian: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
