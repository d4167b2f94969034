# shellcheck shell=bash
# Pinned versions of the local control plane. Sourced by the hack/ scripts; one place to bump.
# etcd is the version k8s.io/kubernetes itself depends on, so it builds from the same module graph.
KUBERNETES_VERSION="${KUBERNETES_VERSION:-v1.34.4}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.4}"
KWOK_VERSION="${KWOK_VERSION:-v0.8.0}"
