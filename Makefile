# roxy — every entry point a newcomer or CI needs.
#
#   make run     start the proxy on the built-in default (127.0.0.1:8080)
#   make test    install what the tests need, then run them
#   make build   dist/roxy, one executable
#   make bench   load and memory benchmarks (installs wrk, squid, ...)
#   make bench-tls  HTTPS interception: roxy vs mitmproxy vs http-mitm-proxy
#   make check   types and formatting
#
# Bun is pinned in package.json ("engines.bun"). When `bun` is not on PATH, or
# is another version, the pinned one is installed from the npm registry into
# .tools/bun and used from there.

SHELL := /bin/bash
BUN_VERSION := $(shell sed -n 's/.*"bun": *"\([0-9][0-9.]*\)".*/\1/p' package.json | head -n 1)
SYSTEM_BUN := $(shell command -v bun 2>/dev/null)
ifeq ($(SYSTEM_BUN),)
  BUN := $(CURDIR)/.tools/bun/node_modules/.bin/bun
else ifneq ($(shell $(SYSTEM_BUN) --version 2>/dev/null),$(BUN_VERSION))
  BUN := $(CURDIR)/.tools/bun/node_modules/.bin/bun
else
  BUN := $(SYSTEM_BUN)
endif
export PATH := $(dir $(BUN)):$(PATH)

ARGS ?=

.PHONY: run test build bench bench-tls check format deps system-deps clean

run: deps
	$(BUN) src/main.ts run $(ARGS)

test: deps system-deps
	$(BUN) test --timeout 30000 $(ARGS)

# dist/roxy is rebuilt only when a source, the lockfile or this Makefile is
# newer, so tests may call `make build` cheaply. --sourcemap embeds the map in
# the executable (stack traces name src/*.ts lines) and also writes
# dist/roxy.map. The executable must not pick up a stray .env or bunfig.toml
# from whatever directory it is started in, hence the two --no-compile-* flags.
BUILD_FLAGS := --compile --minify --sourcemap \
  --no-compile-autoload-dotenv --no-compile-autoload-bunfig

build: dist/roxy

dist/roxy: $(shell find src -type f) package.json bun.lock Makefile | deps
	$(BUN) build $(BUILD_FLAGS) src/main.ts --outfile $@
	@ls -l $@ | awk '{ printf "%s: %.1f MB\n", $$NF, $$5 / 1e6 }'

bench: deps
	bash bench/run.sh $(ARGS)

bench-tls: deps
	bash bench/tls-run.sh $(ARGS)

check: deps
	$(BUN) x tsc -p tsconfig.json
	$(BUN) x prettier --check .

format: deps
	$(BUN) x prettier --write .

deps: node_modules/.installed

node_modules/.installed: package.json $(BUN)
	$(BUN) install
	touch $@

$(CURDIR)/.tools/bun/node_modules/.bin/bun:
	mkdir -p .tools/bun
	cd .tools/bun && echo '{"private":true}' > package.json && \
	  npm install --no-audit --no-fund --no-save bun@$(BUN_VERSION)
	$@ --version

# Command-line tools the end-to-end tests drive. Installed from Debian when
# missing and we are root; otherwise the missing ones are named.
system-deps:
	@bash scripts/system-deps.sh curl openssl chromium

clean:
	rm -rf dist .tools node_modules
