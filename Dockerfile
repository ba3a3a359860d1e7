# syntax=docker/dockerfile:1
#
# roxy container image: one executable on an empty base (SPEC §10).
#
#   docker build -t roxy .
#   docker run --rm -p 127.0.0.1:8080:8080 roxy
#
# Stage `build` compiles dist/roxy with the Bun version pinned in package.json
# (installed from the npm registry by `make deps`, as on every other machine)
# and assembles the image's root filesystem with scripts/make-rootfs.sh. That
# script is the one list of what the image holds; test/dist/chroot.test.ts
# runs it too and starts the binary in the result with chroot. The final
# stage is that folder and nothing else: no shell, no package manager.
#
# The executable embeds the Bun runtime of the build stage, so it runs on the
# CPU class the build machine's Bun was made for (see docs/deploy.md).

ARG BUILD_IMAGE=node:22-bookworm-slim

FROM ${BUILD_IMAGE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates make \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Toolchain and dependencies first: this layer is reused while only sources change.
COPY package.json bun.lock bunfig.toml Makefile ./
RUN make deps
COPY tsconfig.json ./
COPY src/ src/
COPY scripts/ scripts/
RUN make build && scripts/make-rootfs.sh /rootfs dist/roxy

FROM scratch
COPY --from=build /rootfs/ /
# Builders differ on whether COPY keeps owners; the state folder must belong
# to the uid that runs the proxy, so say so explicitly.
COPY --from=build --chown=65532:65532 /rootfs/var/lib/roxy/ /var/lib/roxy/
USER 65532:65532
WORKDIR /var/lib/roxy
# The ephemeral CA (no tls.ca_cert configured) is written here.
ENV TMPDIR=/tmp
EXPOSE 8080
STOPSIGNAL SIGTERM
ENTRYPOINT ["/roxy"]
CMD ["run", "-c", "/etc/roxy/config.yaml"]
