##@ Bridge (bridge/: QuickJS guest + wasmtime host as a Node.js native module)

.PHONY: deps-guest
deps-guest: ## Debian's clang, lld and wasi-libc, which build the QuickJS WebAssembly guest
	@$(APT_INSTALL) clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32 binaryen

.PHONY: build-bridge
build-bridge: deps-node deps-guest ## Build the guest module and the native bridge
	@echo "==> bridge: not built yet"

.PHONY: test-bridge
test-bridge: test-bridge-rust test-bridge-js ## cargo test for the engine, jest against the real native module

.PHONY: test-bridge-rust
test-bridge-rust: deps-rust deps-guest ## cargo test: engine, pool, limits, capabilities, suspend/resume, cache
	@echo "==> bridge: no Rust tests yet"

.PHONY: test-bridge-js
test-bridge-js: build-bridge ## jest: the whole API and the hostile cases against the built .node
	@echo "==> bridge: type-check the jest suite and the benchmarks against the generated index.d.ts"
	npx tsc --noEmit -p bridge/test/tsconfig.json
	npx tsc --noEmit -p bridge/bench/tsconfig.json
	@echo "==> bridge: jest against the built native module"
	cd bridge && node --experimental-vm-modules ../node_modules/jest/bin/jest.js --ci

.PHONY: bench-bridge
bench-bridge: build-bridge ## Bridge benchmarks against peer sandboxes, then the 1,000,000-execution soak test
	@echo "==> bridge: compile the benchmarks"
	npx tsc -p bridge/bench/tsconfig.build.json
	@mkdir -p "$(NEXUS_CACHE)/bench"
	node bridge/bench/dist/main.js | tee "$(NEXUS_CACHE)/bench/bridge.md"
	node --expose-gc bridge/bench/dist/soak.js | tee -a "$(NEXUS_CACHE)/bench/bridge.md"
	@echo "==> bridge: figures in $(NEXUS_CACHE)/bench/bridge.md (BENCH_SCALE=$${BENCH_SCALE:-1})"
