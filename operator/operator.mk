##@ Operator (operator/, crds/, config/)

.PHONY: build-operator
build-operator: deps-node ## Compile the operator to operator/dist
	@echo "==> operator: not built yet"

.PHONY: test-operator
test-operator: test-operator-unit test-operator-integration ## Unit tests, then integration tests against a local control plane

.PHONY: test-operator-unit
test-operator-unit: deps-node ## Builders, policies, queue: no cluster needed
	@echo "==> operator: no unit tests yet"

.PHONY: bench-operator
bench-operator: build-operator ## Apply-to-Ready latency and 500-runtime scale test against the local control plane
	@echo "==> operator: no benchmarks yet"
