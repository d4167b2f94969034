# shellcheck shell=bash disable=SC2034
# Names of the images the real node runs besides the kernel's and the operator's (those follow
# their package.json versions, see hack/images.mk). All are built locally; none is ever pulled.
# Expects lib/versions.sh sourced.
PAUSE_IMAGE="localhost/nexus/pause:$PAUSE_VERSION"
COREDNS_IMAGE="localhost/nexus/coredns:$COREDNS_VERSION"
METRICS_SERVER_IMAGE="localhost/nexus/metrics-server:$METRICS_SERVER_VERSION"
LOCAL_PATH_IMAGE="localhost/nexus/local-path-provisioner:$LOCAL_PATH_PROVISIONER_VERSION"
# local-path-provisioner's helper pods need a shell, mkdir and rm: the local Debian base.
HELPER_IMAGE="localhost/debian:bookworm-slim"
REDIS_IMAGE="localhost/nexus/redis:$REDIS_IMAGE_VERSION"
# What every real node imports at start.
NODE_IMAGES=("$PAUSE_IMAGE" "$COREDNS_IMAGE" "$METRICS_SERVER_IMAGE" "$LOCAL_PATH_IMAGE" "$HELPER_IMAGE")
