##@ Kernel (kernel/: the workspace-kernel HTTP and WebSocket server)

KERNEL_SRC := $(shell find kernel/src -name '*.ts' -not -name '*.test.ts' -not -path '*/testing/*' 2>/dev/null)
KERNEL_STAMP := kernel/dist/.built
KERNEL_BENCH_SRC := $(wildcard kernel/bench/*.ts) $(addprefix kernel/src/testing/,redis-server.ts attack.ts busy-loops.ts cleanup.ts retrying-client.ts)
KERNEL_BENCH_STAMP := kernel/bench/dist/bench/.built

.PHONY: build-kernel
build-kernel: deps-node build-bridge $(KERNEL_STAMP) ## Compile the kernel to kernel/dist (entry: node kernel/dist/index.js)

$(KERNEL_STAMP): $(KERNEL_SRC) kernel/package.json kernel/tsconfig.json kernel/tsconfig.build.json
	@echo "==> kernel: tsc -p kernel/tsconfig.build.json"
	npm run build --silent -w @nexus/kernel
	@touch $@

.PHONY: deps-redis
deps-redis: ## Debian's redis-server and redis-cli (the tests start their own servers on 127.0.0.1)
	@$(APT_INSTALL) redis-server redis-tools

.PHONY: test-kernel
test-kernel: deps-redis build-bridge build-kernel tools ## jest: units, then HTTP and WebSocket against real kernels, the real bridge and real Redis servers
	@echo "==> kernel: jest (units and integration; the integration suites start kernels and Redis on 127.0.0.1; promtool checks /metrics)"
	cd kernel && timeout --foreground --signal=TERM --kill-after=30s 30m node --experimental-vm-modules ../node_modules/jest/bin/jest.js --ci \
	  || { rc=$$?; [ $$rc -ne 124 ] || echo "==> kernel: jest ran past 30m and was stopped (a last resort; the report above names what was still running)" >&2; exit $$rc; }

.PHONY: schemathesis
schemathesis: ## Install (once) the pinned Schemathesis into a virtualenv under NEXUS_CACHE (PyPI)
	@hack/schemathesis.sh --install

.PHONY: test-api
test-api: build-kernel schemathesis ## Schemathesis against live kernels, auth off and on: every answer matches /openapi.json (hack/schemathesis.toml)
	@hack/schemathesis.sh

$(KERNEL_BENCH_STAMP): $(KERNEL_BENCH_SRC) kernel/bench/tsconfig.json kernel/bench/tsconfig.build.json
	@echo "==> kernel: compile the benchmarks"
	npx tsc -p kernel/bench/tsconfig.build.json
	@touch $@

.PHONY: bench-kernel
bench-kernel: deps-redis build-kernel $(KERNEL_BENCH_STAMP) ## autocannon vs bare Express, fan-out, idle RSS; Redis vs embedded, resume storm, rolling restart; hostile input
	@mkdir -p "$(NEXUS_CACHE)/bench"
	node kernel/bench/dist/bench/main.js | tee "$(NEXUS_CACHE)/bench/kernel.md"
	@echo "==> kernel: figures in $(NEXUS_CACHE)/bench/kernel.md"
