##@ Operator (operator/, crds/, config/)

OPERATOR_SRC := $(shell find operator/src -name '*.ts' -not -name '*.test.ts' 2>/dev/null)
OPERATOR_STAMP := operator/dist/.built
CRD_FILE := crds/nexus.dev_nexusruntimes.yaml

.PHONY: build-operator
build-operator: deps-node $(OPERATOR_STAMP) ## Compile the operator to operator/dist (entry: node operator/dist/index.js)

$(OPERATOR_STAMP): $(OPERATOR_SRC) operator/tsconfig.json operator/tsconfig.build.json operator/package.json \
		$(shell find kernel/published -type f 2>/dev/null)
	@echo "==> operator: tsc"
	npm run build --silent -w @nexus/operator
	@touch $@

.PHONY: generate-crd
generate-crd: build-operator ## Regenerate crds/ from the TypeScript API (operator/src/api/schema.ts)
	@echo "==> operator: generating $(CRD_FILE)"
	node operator/dist/tools/generate-crd.js > $(CRD_FILE).tmp && mv $(CRD_FILE).tmp $(CRD_FILE)
	@$(MAKE) chart-sync

.PHONY: generate-k8s-schemas
generate-k8s-schemas: build-operator ## Regenerate the Kubernetes schemas the CRD embeds, from the pinned API server's /openapi/v3 (starts one briefly)
	@echo "==> operator: OpenAPI v3 documents of the local API server"
	@dir="$$(mktemp -d)"; \
	documents="$$(node -e 'import("./operator/dist/api/k8s-openapi.js").then((m) => console.log(m.EMBEDDED_DOCUMENTS.join(" ")))')"; \
	version="$$(operator/scripts/k8s-openapi.sh "$$dir" $$documents)"; \
	node operator/dist/tools/generate-k8s-schemas.js "$$dir" "$$version" operator/src/api/k8s-schemas.ts; \
	rm -rf "$$dir"
	@$(MAKE) generate-crd

.PHONY: test-operator
test-operator: test-operator-unit test-operator-integration ## Unit tests, then integration tests against a local control plane

.PHONY: test-operator-unit
test-operator-unit: deps-node ## Builders, policies, queue, config, CRD agreement: no cluster needed
	@echo "==> operator: unit tests"
	cd operator && timeout --foreground --signal=TERM --kill-after=30s 10m node --experimental-vm-modules ../node_modules/jest/bin/jest.js --config jest.config.js \
	  || { rc=$$?; [ $$rc -ne 124 ] || echo "==> operator: jest ran past 10m and was stopped (a last resort; the report above names what was still running)" >&2; exit $$rc; }

.PHONY: bench-operator
bench-operator: build-operator ## Apply-to-Ready latency and 500-runtime scale test against the local control plane
	@$(MAKE) control-plane-binaries
	@echo "==> operator benchmark: a control plane of its own, the operator process, $${BENCH_FLEET:-500} runtimes"
	cd operator && node --experimental-vm-modules ../node_modules/jest/bin/jest.js \
	  --config jest.integration.config.js --runInBand --testTimeout=1800000 \
	  --testMatch '**/test/integration/bench/*.bench.ts'

# The Helm chart (charts/nexus-operator) and the monitoring of config/prometheus.
CHART_DIR := charts/nexus-operator

.PHONY: tools
tools: ## Build (once) and cache helm, promtool, promql-metrics and the Prometheus Operator CRDs (Go module proxy)
	@hack/build-tools.sh

.PHONY: chart-sync
chart-sync: ## Copy the CRD, the alerts and the dashboards into the chart (the chart tests fail while they differ)
	cp $(CRD_FILE) $(CHART_DIR)/crds/
	cp config/prometheus/prometheus-rule.yaml $(CHART_DIR)/files/
	rm -f $(CHART_DIR)/files/dashboards/*.json
	cp config/prometheus/dashboards/*.json $(CHART_DIR)/files/dashboards/

.PHONY: chart-lint
chart-lint: tools ## helm lint with default and full values (the operator's integration suite also applies them)
	@eval "$$(hack/build-tools.sh --print-env)"; \
	  "$$HELM" lint --strict $(CHART_DIR) && "$$HELM" lint --strict $(CHART_DIR) -f $(CHART_DIR)/ci/full-values.yaml


.PHONY: chart-e2e
chart-e2e: images ## helm install, upgrade and uninstall on a real node, a NexusRuntime Ready in between (~70 s warm)
	hack/chart-e2e.sh
