# shellcheck shell=bash
# Pinned versions of the local control plane. Sourced by the hack/ scripts; one place to bump.
# etcd is the version k8s.io/kubernetes itself depends on, so it builds from the same module graph.
KUBERNETES_VERSION="${KUBERNETES_VERSION:-v1.34.4}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.4}"
KWOK_VERSION="${KWOK_VERSION:-v0.8.0}"
# The real node's add-ons (hack/build-node.sh): cluster DNS, the metrics API for the HPA, and the
# default StorageClass's provisioner. CoreDNS's version is pinned by hack/node/coredns/go.mod.
COREDNS_VERSION="${COREDNS_VERSION:-v1.14.7}"
METRICS_SERVER_VERSION="${METRICS_SERVER_VERSION:-v0.8.0}"
LOCAL_PATH_PROVISIONER_VERSION="${LOCAL_PATH_PROVISIONER_VERSION:-v0.0.30}"
# The node's pod sandbox image (hack/images/pause) and the managed store's image.
PAUSE_VERSION="${PAUSE_VERSION:-1.0}"
REDIS_IMAGE_VERSION="${REDIS_IMAGE_VERSION:-7.0}"
