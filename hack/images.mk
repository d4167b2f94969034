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

CARGO_HOME ?= $(HOME)/.cargo
# NEXUS_CACHE as the image builds see it (/cache): the guest and cargo outputs of builds inside
# images, kept apart from the host's (other paths, other fingerprints); npm's cache is shared.
IMAGE_BUILD_CACHE := $(NEXUS_CACHE)/images/build-cache
# The host's CA bundle, so npm and cargo trust what the host trusts (a TLS-inspecting proxy's CA).
HOST_CA_BUNDLE ?= /etc/ssl/certs/ca-certificates.crt
IMAGE_BUILD := nice -n 10 $(PODMAN) build --pull=never --format docker --layers --network host \
  --volume $(IMAGE_BUILD_CACHE):/cache --volume $(NEXUS_CACHE)/npm:/cache/npm \
  $(if $(wildcard $(HOST_CA_BUNDLE)),--volume $(HOST_CA_BUNDLE):/etc/ssl/certs/ca-certificates.crt:ro)

.PHONY: images
images: images-kernel images-operator ## Build the kernel and operator images with podman (no registry)

.PHONY: images-base
images-base: ## Assemble the base images locally (Debian minbase, Node 20, Rust builder); skips existing ones
	@$(APT_INSTALL) podman buildah runc fuse-overlayfs slirp4netns uidmap debootstrap
	@$(IMAGE_BASE) debian node rust-builder

.PHONY: images-kernel
images-kernel: images-base deps-rust ## Build localhost/nexus/workspace-kernel:<version> from Dockerfile.kernel
	@echo "==> images: building $(KERNEL_IMAGE)"
	@mkdir -p $(IMAGE_BUILD_CACHE) $(NEXUS_CACHE)/npm
	$(IMAGE_BUILD) --volume $(CARGO_HOME):/usr/local/cargo \
	  --build-arg RUST_BUILDER_IMAGE=$$($(IMAGE_BASE) rust-builder-name) \
	  --build-arg VERSION=$(KERNEL_VERSION) -f Dockerfile.kernel -t $(KERNEL_IMAGE) .

.PHONY: images-operator
images-operator: images-base ## Build localhost/nexus/operator:<version> from Dockerfile.operator
	@echo "==> images: building $(OPERATOR_IMAGE)"
	@mkdir -p $(IMAGE_BUILD_CACHE) $(NEXUS_CACHE)/npm
	$(IMAGE_BUILD) --build-arg VERSION=$(OPERATOR_VERSION) -f Dockerfile.operator -t $(OPERATOR_IMAGE) .

.PHONY: images-test
images-test: images ## Smoke-test both images: read-only, non-root, /health, /ready, healthcheck, SIGTERM
	hack/images/smoke-test.sh "$(KERNEL_IMAGE)" "$(OPERATOR_IMAGE)"

.PHONY: images-clean
images-clean: ## Remove the Nexus images and build-cache layers (base images and cargo/npm caches are kept)
	-$(PODMAN) rmi --force $(KERNEL_IMAGE) $(OPERATOR_IMAGE) 2>/dev/null
	$(PODMAN) image prune --force >/dev/null
