##@ Bridge (bridge/: QuickJS guest + wasmtime host as a Node.js native module)

.PHONY: deps-guest
deps-guest: ## Debian's clang, lld and wasi-libc, which build the QuickJS WebAssembly guest
	@$(APT_INSTALL) clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32 binaryen

# The napi CLI writes the ESM loader and the TypeScript declarations next to the crate. Both are
# committed: the build fails when they no longer match what the Rust code declares.
NAPI_BUILD := npx napi build --platform --release --esm --no-const-enum --js index.js --dts index.d.ts

.PHONY: build-bridge
build-bridge: deps-node deps-rust deps-guest ## Build the guest module and the native bridge (bridge/*.node, index.js, index.d.ts)
	@echo "==> bridge: QuickJS guest (clang, wasm32-wasi) and the native module (cargo, release)"
	cd bridge && $(NAPI_BUILD)
	@echo "==> bridge: generated index.js and index.d.ts match the committed ones"
	@if git -C "$(ROOT)" rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
	  git -C "$(ROOT)" diff --exit-code -- bridge/index.js bridge/index.d.ts \
	    || { echo "bridge/index.js or bridge/index.d.ts is stale: commit the regenerated files" >&2; exit 1; }; \
	fi

.PHONY: test-bridge
test-bridge: test-bridge-rust test-bridge-js ## cargo test for the engine, jest against the real native module

.PHONY: test-bridge-rust
test-bridge-rust: deps-rust deps-guest ## cargo test: engine, pool, limits, capabilities, suspend/resume, cache
	@echo "==> bridge: cargo test (release profile, shared with the native module build)"
	cargo test --release --locked -p nexus-bridge

.PHONY: test-bridge-js
test-bridge-js: build-bridge ## jest: the whole API and the hostile cases against the built .node
	@echo "==> bridge: type-check the jest suite and the benchmarks against the generated index.d.ts"
	npx tsc --noEmit -p bridge/test/tsconfig.json
	npx tsc --noEmit -p bridge/bench/tsconfig.json
	@echo "==> bridge: jest against the built native module"
	cd bridge && timeout --foreground --signal=TERM --kill-after=30s 30m node --experimental-vm-modules ../node_modules/jest/bin/jest.js --ci \
	  || { rc=$$?; [ $$rc -ne 124 ] || echo "==> bridge: jest ran past 30m and was stopped (a last resort; the report above names what was still running)" >&2; exit $$rc; }

.PHONY: bench-bridge
bench-bridge: build-bridge ## Bridge benchmarks against peer sandboxes, the event-loop delay under hostile handlers, then the 1,000,000-execution soak test
	@# isolated-vm is an optional peer kept out of the workspace: its install script compiles a
	@# native addon in every npm ci. It is installed here once, outside the tree, and built with
	@# npm's own node-gyp against the distribution's Node headers (there is no network to fetch
	@# them); when that fails the benchmark notes it and goes on.
	@test -f "$(NEXUS_CACHE)/bench-peers/node_modules/isolated-vm/out/isolated_vm.node" || { \
	  echo "==> bridge: install and build isolated-vm 5.0.4 for the peer comparison (minutes, once)"; \
	  mkdir -p "$(NEXUS_CACHE)/bench-peers" && \
	  npm install --prefix "$(NEXUS_CACHE)/bench-peers" --no-save --ignore-scripts --no-audit --no-fund --loglevel=error isolated-vm@5.0.4 && \
	  ( cd "$(NEXUS_CACHE)/bench-peers/node_modules/isolated-vm" && \
	    node "$$(npm prefix -g)/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js" rebuild --release -j max \
	      $$([ -f /usr/include/node/node.h ] && echo --nodedir=/usr) ) \
	  || echo "==> bridge: isolated-vm could not be built; the benchmark skips it"; }
	@echo "==> bridge: compile the benchmarks"
	npx tsc -p bridge/bench/tsconfig.build.json
	@mkdir -p "$(NEXUS_CACHE)/bench"
	BENCH_PEERS_DIR="$(NEXUS_CACHE)/bench-peers" node bridge/bench/dist/main.js | tee "$(NEXUS_CACHE)/bench/bridge.md"
	node bridge/bench/dist/event-loop.js | tee -a "$(NEXUS_CACHE)/bench/bridge.md"
	node bridge/bench/dist/cold-start.js | tee -a "$(NEXUS_CACHE)/bench/bridge.md"
	node --expose-gc bridge/bench/dist/soak.js | tee -a "$(NEXUS_CACHE)/bench/bridge.md"
	@echo "==> bridge: figures in $(NEXUS_CACHE)/bench/bridge.md (BENCH_SCALE=$${BENCH_SCALE:-1})"
