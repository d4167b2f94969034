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
	@echo "==> bridge: no jest tests yet"

.PHONY: bench-bridge
bench-bridge: build-bridge ## Bridge benchmarks against peer sandboxes
	@echo "==> bridge: no benchmarks yet"
