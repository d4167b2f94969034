##@ Kernel (kernel/: the workspace-kernel HTTP and WebSocket server)

.PHONY: build-kernel
build-kernel: deps-node ## Compile the kernel to kernel/dist
	@echo "==> kernel: not built yet"

.PHONY: test-kernel
test-kernel: build-bridge ## jest: HTTP and WebSocket against a real kernel and the real bridge
	@echo "==> kernel: no tests yet"

.PHONY: bench-kernel
bench-kernel: build-kernel ## autocannon and WebSocket fan-out benchmarks
	@echo "==> kernel: no benchmarks yet"
