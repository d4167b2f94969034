##@ Local cluster (hack/)

# Where `make cluster` keeps its data, certificates, logs and PID files (never in the repository).
export NEXUS_CLUSTER_DIR ?= $(NEXUS_CACHE)/run/cluster

.PHONY: control-plane-binaries
control-plane-binaries: ## Build (once) and cache kube-apiserver, controller-manager, scheduler, kubectl, etcd and KWOK
	hack/build-control-plane.sh

.PHONY: node-binaries
node-binaries: ## Build (once) and cache kubelet, kube-proxy, CoreDNS, metrics-server and local-path-provisioner
	hack/build-node.sh

.PHONY: cluster
cluster: ## A local cluster with one real node (containerd, kubelet, DNS, metrics, storage); prints KUBECONFIG
	hack/cluster-up.sh --node=real "$(NEXUS_CLUSTER_DIR)"

.PHONY: cluster-kwok
cluster-kwok: ## The same control plane with a simulated KWOK node instead (what the operator's integration tests use)
	hack/cluster-up.sh --node=kwok "$(NEXUS_CLUSTER_DIR)"

.PHONY: cluster-down
cluster-down: ## Stop everything `make cluster` started, by PID, and remove the node's namespace and veth (PURGE=1: data too)
	hack/cluster-down.sh $(if $(PURGE),--purge) "$(NEXUS_CLUSTER_DIR)"

.PHONY: test-operator-integration
test-operator-integration: build-operator control-plane-binaries ## The operator as a process against a real API server (started by the tests)
	@echo "==> operator integration tests (a control plane of their own; see docs/local-cluster.md)"
	cd operator && node --experimental-vm-modules ../node_modules/jest/bin/jest.js \
	  --config jest.integration.config.js --runInBand

.PHONY: e2e
e2e: images ## The user's flow end to end on real pods, in a cluster of its own (see docs/local-cluster.md)
	test/e2e/run.sh

.PHONY: dev
dev: images ## The local cluster with a real node, the operator in it, the sample NexusRuntime: real pods to try (starts clean; NEXUS_DEV_KEEP=1 keeps a stopped cluster's state)
	hack/dev.sh

.PHONY: port-forward
port-forward: ## Forward a NexusRuntime's http and ws ports to localhost:3000 and :3001, kept across rollouts (RUNTIME=demo NAMESPACE=default)
	@set -a && . "$(NEXUS_CLUSTER_DIR)/cluster.env" && set +a && \
	  hack/port-forward.sh "$(or $(RUNTIME),demo)" "$(or $(NAMESPACE),default)"

.PHONY: bench-pod-start
bench-pod-start: ## Start-to-Ready of a new kernel pod with and without the image's guest seed, idle and loaded (needs make dev)
	hack/bench-pod-start.sh

.PHONY: bench-cpu-shape
bench-cpu-shape: ## The kernel pod's CPU shape: trivial-trigger p99, CFS throttling and the HPA beside CPU-bound load (needs make dev)
	hack/bench-cpu-shape.sh
