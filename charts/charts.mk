##@ Helm chart and monitoring (charts/, config/prometheus)

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
