##@ Operator (operator/, crds/, config/)

.PHONY: build-operator
build-operator: deps-node ## Compile the operator to operator/dist
	@echo "==> operator: not built yet"

.PHONY: test-operator
test-operator: deps-node ## Unit tests, then integration tests against a local control plane
	@echo "==> operator: no tests yet"

.PHONY: bench-operator
bench-operator: build-operator ## Apply-to-Ready latency and 500-runtime scale test
	@echo "==> operator: no benchmarks yet"
