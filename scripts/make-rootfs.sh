#!/usr/bin/env bash
# Usage: scripts/make-rootfs.sh DIR [BINARY]
#
# Assembles the root filesystem of the roxy container image into DIR: the one
# source of truth for what the image holds. The Dockerfile's build stage runs
# this script and its `FROM scratch` stage copies DIR; test/dist/chroot.test.ts
# runs the same script and starts the binary in DIR with chroot.
#
# DIR receives, and nothing else:
#   /roxy                                 BINARY (default dist/roxy), mode 0755
#   shared libraries `ldd BINARY` lists   at the paths ldd prints, symlinks
#   and the dynamic loader                resolved to regular files
#   /etc/passwd, /etc/group               root and roxy (65532:65532)
#   /etc/nsswitch.conf                    hosts: files dns
#   /etc/roxy/config.yaml                 default config (listen 0.0.0.0:8080)
#   /etc/ssl/certs/ca-certificates.crt    CA roots for upstream TLS
#   /var/lib/roxy                         state, owned by 65532, mode 0700
#   /tmp                                  mode 1777 (the ephemeral CA file)
#   /proc, /dev                           empty mount points
#
# The static files come from scripts/rootfs/. DIR must be empty or absent.
# Run as root so /var/lib/roxy can be given to 65532 (the Dockerfile also
# sets that owner with COPY --chown, whichever way COPY treats owners).
set -euo pipefail

ROXY_UID=65532
ROXY_GID=65532
CA_BUNDLE=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}

die() {
  echo "make-rootfs: $*" >&2
  exit 1
}

[ $# -ge 1 ] && [ $# -le 2 ] || die "usage: $0 DIR [BINARY]"
dir=$1
binary=${2:-dist/roxy}
skeleton=$(cd "$(dirname "$0")" && pwd)/rootfs

[ -x "$binary" ] || die "$binary is not an executable; run 'make build' first"
[ -f "$CA_BUNDLE" ] || die "$CA_BUNDLE not found; install the ca-certificates package"
if [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
  die "$dir is not empty"
fi

# Prints the absolute paths of the shared objects the binary loads, the
# dynamic loader included. The vDSO has no file and is left out; a library
# ldd cannot find is an error, not a silently broken image.
list_libraries() {
  local out
  out=$(ldd "$1" 2>&1) || die "ldd $1 failed: $out"
  if grep -q 'not found' <<<"$out"; then
    die "ldd $1: $(grep 'not found' <<<"$out" | tr -s ' \t' ' ')"
  fi
  # "libc.so.6 => /lib/.../libc.so.6 (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)"
  awk '$2 == "=>" && $3 ~ /^\// { print $3; next } $1 ~ /^\// { print $1 }' <<<"$out"
}

# 1. The skeleton: passwd, group, nsswitch.conf, the default config.
mkdir -p "$dir"
cp -R "$skeleton/." "$dir/"
chmod 0755 "$dir" "$dir/etc" "$dir/etc/roxy"
chmod 0644 "$dir/etc/passwd" "$dir/etc/group" "$dir/etc/nsswitch.conf" \
  "$dir/etc/roxy/config.yaml"

# 2. The executable and what the loader needs to start it.
install -m 0755 "$binary" "$dir/roxy"
for lib in $(list_libraries "$binary"); do
  mkdir -p "$dir$(dirname "$lib")"
  cp -L "$lib" "$dir$lib"
done

# 3. CA roots, the writable places, and mount points.
install -D -m 0644 "$CA_BUNDLE" "$dir/etc/ssl/certs/ca-certificates.crt"
install -d -m 0700 "$dir/var/lib/roxy"
install -d -m 1777 "$dir/tmp"
install -d -m 0555 "$dir/proc"
install -d -m 0755 "$dir/dev"
if [ "$(id -u)" -eq 0 ]; then
  chown "$ROXY_UID:$ROXY_GID" "$dir/var/lib/roxy"
else
  echo "make-rootfs: not root: $dir/var/lib/roxy stays owned by $(id -u)" >&2
fi
