##@ Images (podman, no registry)

.PHONY: images
images: ## Build the kernel and operator images with podman
	@echo "==> images: not available yet"
