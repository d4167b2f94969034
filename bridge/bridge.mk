##@ Bridge (bridge/: QuickJS guest + wasmtime host as a Node.js native module)

.PHONY: deps-guest
deps-guest: ## Debian's clang, lld and wasi-libc, which build the QuickJS WebAssembly guest
	@$(APT_INSTALL) clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32 binaryen

.PHONY: build-bridge
build-bridge: deps-node deps-guest ## Build the guest module and the native bridge
	@echo "==> bridge: not built yet"

.PHONY: test-bridge
test-bridge: build-bridge ## cargo test for the engine, jest against the real native module
	@echo "==> bridge: no tests yet"

.PHONY: bench-bridge
bench-bridge: build-bridge ## Bridge benchmarks against peer sandboxes
	@echo "==> bridge: no benchmarks yet"
