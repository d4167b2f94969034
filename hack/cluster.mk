##@ Local control plane (hack/)

.PHONY: cluster
cluster: ## Start etcd, kube-apiserver, kube-controller-manager and KWOK locally; prints KUBECONFIG
	@echo "==> cluster: not available yet"

.PHONY: cluster-down
cluster-down: ## Stop everything `make cluster` started, by PID
	@echo "==> cluster: nothing to stop"

.PHONY: test-operator-integration
test-operator-integration: build-operator ## The operator as a process against a real API server (started by the tests)
	@echo "==> operator: no integration tests yet"

.PHONY: e2e
e2e: ## The user's flow end to end against the local control plane
	@echo "==> e2e: not available yet"

.PHONY: dev
dev: ## The main job: a local cluster, the operator, a NexusRuntime and a reachable kernel
	@echo "==> dev: not available yet"
