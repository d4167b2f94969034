# Nexus — `make help` lists every target. Each target installs what it needs and is idempotent.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

ROOT := $(abspath $(dir $(firstword $(MAKEFILE_LIST))))

# Everything slow to rebuild lives under one cache root outside the clone, so a second run (or a
# fresh clone on the same machine) is fast. Override with NEXUS_CACHE=/some/dir.
export NEXUS_CACHE ?= $(HOME)/.cache/nexus
export CARGO_TARGET_DIR ?= $(NEXUS_CACHE)/cargo-target
export GOMODCACHE ?= $(NEXUS_CACHE)/go/mod
export GOCACHE ?= $(NEXUS_CACHE)/go/build
export GOFLAGS ?= -modcacherw
export npm_config_cache ?= $(NEXUS_CACHE)/npm
export CARGO_TERM_PROGRESS_WHEN ?= never
export PATH := $(HOME)/.cargo/bin:$(PATH)

APT_INSTALL := $(ROOT)/hack/apt-install.sh
NODE_STAMP := node_modules/.package-lock.json

##@ Everyday

.PHONY: help
help: ## List the targets, one line each
	@awk 'BEGIN {FS = ":.*## "} \
	  /^##@/ { printf "\n%s\n", substr($$0, 5) } \
	  /^[a-zA-Z0-9_.-]+:.*## / { printf "  %-18s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

.PHONY: deps
deps: deps-node deps-rust deps-guest deps-redis ## Install build and test dependencies (apt, npm, cargo); skips what is there

.PHONY: build
build: build-bridge build-kernel build-operator ## Build the native bridge, the kernel and the operator

.PHONY: test
test: lint test-bridge test-kernel test-api test-operator e2e chart-e2e ## Lint, type-check, every test suite, then the images, the end-to-end suite and the Helm chart on a real node (what CI runs)

.PHONY: lint
lint: lint-ts lint-rust ## ESLint, Prettier and tsc for TypeScript; rustfmt and clippy for Rust

.PHONY: bench
bench: bench-bridge bench-kernel bench-operator ## Run every benchmark and soak test (not part of CI)

.PHONY: clean
clean: ## Remove build outputs in the tree (caches under NEXUS_CACHE are kept; see clean-cache)
	rm -rf node_modules */node_modules */dist bridge/*.node coverage

.PHONY: clean-cache
clean-cache: ## Remove the cache root NEXUS_CACHE (the next build starts cold)
	rm -rf "$(NEXUS_CACHE)"

##@ Dependencies

.PHONY: deps-node
deps-node: $(NODE_STAMP) ## npm ci for every workspace (only when the lockfile changed)

$(NODE_STAMP): package-lock.json package.json bridge/package.json kernel/package.json operator/package.json
	@echo "==> npm ci"
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: deps-rust
deps-rust: ## cargo fetch for the workspace
	@echo "==> cargo fetch"
	cargo fetch --locked -q

##@ Lint

.PHONY: lint-ts
lint-ts: deps-node ## tsc --noEmit, ESLint and Prettier over every workspace
	@echo "==> tsc --noEmit (every workspace)"
	npm run typecheck --workspaces --if-present
	@echo "==> eslint"
	npx eslint . --max-warnings 0
	@echo "==> prettier --check"
	npx prettier --check . --log-level warn

.PHONY: lint-rust
lint-rust: deps-rust deps-guest ## cargo fmt --check and clippy -D warnings
	@echo "==> cargo fmt --check"
	cargo fmt --all --check
	@echo "==> cargo clippy"
	cargo clippy --workspace --all-targets --locked -q -- -D warnings

include bridge/bridge.mk
include kernel/kernel.mk
include operator/operator.mk
include hack/cluster.mk
include hack/images.mk
