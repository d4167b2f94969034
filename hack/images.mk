##@ Images (podman, no registry)

# podman with the project's own configuration (storage under $(NEXUS_CACHE)/containers, runc,
# cgroupfs, file events; see docs/images.md). Builds use the host network only to reach package
# registries for what the mounted caches lack; runs use slirp4netns. Never podman's bridge.
PODMAN := $(ROOT)/hack/images/podman.sh
IMAGE_BASE := $(ROOT)/hack/images/base.sh
package_version = $(shell sed -n 's/^  "version": *"\([^"]*\)".*/\1/p' $(ROOT)/$(1)/package.json)
KERNEL_VERSION := $(call package_version,kernel)
OPERATOR_VERSION := $(call package_version,operator)
KERNEL_IMAGE ?= localhost/nexus/workspace-kernel:$(KERNEL_VERSION)
OPERATOR_IMAGE ?= localhost/nexus/operator:$(OPERATOR_VERSION)
REDIS_IMAGE_VERSION := $(shell . $(ROOT)/hack/lib/versions.sh 2>/dev/null && echo $$REDIS_IMAGE_VERSION)
REDIS_IMAGE ?= localhost/nexus/redis:$(REDIS_IMAGE_VERSION)

CARGO_HOME ?= $(HOME)/.cargo
RUSTUP_HOME ?= $(HOME)/.rustup
# NEXUS_CACHE as the image builds see it (/cache); npm's cache is shared with the host.
IMAGE_BUILD_CACHE := $(NEXUS_CACHE)/images/build-cache
# The kernel image's bridge builds at the clone's own path with the host's CARGO_HOME, toolchain
# and cargo target directory mounted where the host has them: cargo's fingerprints match, so the
# image reuses what the host's `make build-bridge` compiled (see docs/images.md).
KERNEL_CARGO_ARGS := --volume $(CARGO_HOME):$(CARGO_HOME) --volume $(CARGO_TARGET_DIR):$(CARGO_TARGET_DIR) \
  $(if $(wildcard $(RUSTUP_HOME)),--volume $(RUSTUP_HOME):$(RUSTUP_HOME):ro --build-arg RUSTUP_HOME=$(RUSTUP_HOME)) \
  --build-arg SRC_DIR=$(ROOT) --build-arg BUILD_CARGO_HOME=$(CARGO_HOME) --build-arg BUILD_CARGO_TARGET_DIR=$(CARGO_TARGET_DIR)
# The host's CA bundle, so npm and cargo trust what the host trusts (a TLS-inspecting proxy's CA).
HOST_CA_BUNDLE ?= /etc/ssl/certs/ca-certificates.crt
IMAGE_BUILD := nice -n 10 $(PODMAN) build --pull=never --format docker --layers --network host \
  --volume $(IMAGE_BUILD_CACHE):/cache --volume $(NEXUS_CACHE)/npm:/cache/npm \
  $(if $(wildcard $(HOST_CA_BUNDLE)),--volume $(HOST_CA_BUNDLE):/etc/ssl/certs/ca-certificates.crt:ro)

.PHONY: images
images: images-kernel images-operator images-redis ## Build the kernel, operator and managed store images with podman (no registry)

.PHONY: images-base
images-base: ## Assemble the base images locally (Debian minbase, Node 20, Rust builder); skips existing ones
	@$(APT_INSTALL) podman buildah runc fuse-overlayfs slirp4netns uidmap debootstrap
	@$(IMAGE_BASE) debian node rust-builder

.PHONY: images-kernel
images-kernel: images-base build-bridge ## Build localhost/nexus/workspace-kernel:<version> from Dockerfile.kernel
	@echo "==> images: building $(KERNEL_IMAGE)"
	@mkdir -p $(IMAGE_BUILD_CACHE) $(NEXUS_CACHE)/npm $(CARGO_TARGET_DIR)
	$(IMAGE_BUILD) $(KERNEL_CARGO_ARGS) \
	  --build-arg RUST_BUILDER_IMAGE=$$($(IMAGE_BASE) rust-builder-name) \
	  --build-arg VERSION=$(KERNEL_VERSION) -f Dockerfile.kernel -t $(KERNEL_IMAGE) .

.PHONY: images-operator
images-operator: images-base ## Build localhost/nexus/operator:<version> from Dockerfile.operator
	@echo "==> images: building $(OPERATOR_IMAGE)"
	@mkdir -p $(IMAGE_BUILD_CACHE) $(NEXUS_CACHE)/npm
	$(IMAGE_BUILD) --build-arg VERSION=$(OPERATOR_VERSION) -f Dockerfile.operator -t $(OPERATOR_IMAGE) .

.PHONY: images-redis
images-redis: images-base ## Build localhost/nexus/redis:7.0 (Debian's redis-server) for the managed store
	@echo "==> images: building $(REDIS_IMAGE)"
	$(IMAGE_BUILD) --build-arg VERSION=$(REDIS_IMAGE_VERSION) -f hack/images/redis.Containerfile -t $(REDIS_IMAGE) hack/images

.PHONY: images-test
images-test: images ## Smoke-test both images: read-only, non-root, /health, /ready, healthcheck, SIGTERM
	hack/images/smoke-test.sh "$(KERNEL_IMAGE)" "$(OPERATOR_IMAGE)"

.PHONY: images-clean
images-clean: ## Remove the Nexus images and build-cache layers (base images and cargo/npm caches are kept)
	-$(PODMAN) rmi --force $(KERNEL_IMAGE) $(OPERATOR_IMAGE) $(REDIS_IMAGE) 2>/dev/null
	$(PODMAN) image prune --force >/dev/null
