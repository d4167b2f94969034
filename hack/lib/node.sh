# shellcheck shell=bash disable=SC2034 # the constants are also read by the templates (render)
# The real node: containerd, kubelet and kube-proxy inside a network namespace of their own, joined
# to the host by one veth pair. The only changes to the host's network are that veth and two local
# routes (the pod and Service ranges via the node's end): no default route out of the namespace,
# forwarding and NAT stay off in the host's namespace. One real node per machine at a time.
#
# Expects lib/cluster.sh sourced and RUN_DIR set.

NODE_NAME=nexus-node
NODE_NETNS=nexus-node
NETNS_PATH=/run/netns/$NODE_NETNS
HOST_VETH=nexus-node0
HOST_IP=172.31.255.1
NODE_IP=172.31.255.2
VETH_CIDR=172.31.255.0/30
POD_CIDR=10.244.0.0/24
POD_GATEWAY=10.244.0.1
SERVICE_CIDR=10.96.0.0/16
CLUSTER_DNS_IP=10.96.0.10
# Short paths (socket paths stop at 108 bytes) for what belongs to the running node only:
# containerd's state and sockets, CNI's IP allocations, the owner record. Removed by node_down.
NODE_RUN=/run/nexus-node
CONTAINERD_SOCK=$NODE_RUN/containerd/containerd.sock
# containerd's root (images, snapshots) is kept between clusters, so images are imported once.
CONTAINERD_ROOT="$NEXUS_CACHE/node/containerd"
IMPORTED_DIR="$NEXUS_CACHE/node/imported"
# Every pod's cgroups live below this one, in each hierarchy: it is how node_down finds them.
CGROUP_ROOT=nexus-node
NODE_COMPONENTS=(containerd kubelet kube-proxy)

in_node() { nsenter --net="$NETNS_PATH" -- "$@"; }
ctr_() { ctr --address "$CONTAINERD_SOCK" --namespace k8s.io "$@"; }

# PID of component NAME of the cluster in run directory DIR, or nothing.
pid_of() { local RUN_DIR="$1"; running_pid "$2"; }

# The run directory whose node holds the namespace, or nothing.
node_owner() { cat "$NODE_RUN/owner" 2>/dev/null || true; }

# True when any process of DIR's node or control plane still runs.
cluster_alive() {
  local name
  for name in "${NODE_COMPONENTS[@]}" kube-apiserver; do
    [ -z "$(pid_of "$1" "$name")" ] || return 0
  done
  return 1
}

# PIDs of every process of every pod of the node (their cgroups are below CGROUP_ROOT).
pod_pids() {
  find "/sys/fs/cgroup/memory/$CGROUP_ROOT" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u || true
}

# Sends SIGTERM, then SIGKILL after a grace period, to every process of every pod of the node.
kill_pod_processes() {
  local pids
  pids="$(pod_pids)"
  [ -n "$pids" ] || return 0
  echo "    stopping $(wc -w <<<"$pids") pod processes"
  # shellcheck disable=SC2086 # one PID per word
  kill -TERM $pids 2>/dev/null || true
  for _ in $(seq 1 20); do
    pids="$(pod_pids)"
    [ -n "$pids" ] || return 0
    sleep 0.25
  done
  # shellcheck disable=SC2086
  kill -KILL $pids 2>/dev/null || true
}

# The containerd shims of this node's containerd (they outlive containerd by design).
shim_pids() {
  local pid
  for pid in $(pgrep -f containerd-shim || true); do
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-address $CONTAINERD_SOCK " && echo "$pid"
  done
}

# Unmounts every mount at or below the given directories, deepest first (the kubelet bind-mounts
# its root directory onto itself).
unmount_below() {
  local dir mounts
  for dir in "$@"; do
    mounts="$(awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r)"
    [ -z "$mounts" ] || xargs -r -n1 umount -l <<<"$mounts" 2>/dev/null || true
  done
}

# Removes the node of DIR (its processes, pods, mounts, cgroups, namespace and veth). Safe on a
# partial or interrupted node; never touches a node of another run directory that still runs.
node_teardown() {
  local dir="$1" name pid
  for name in kube-proxy kubelet; do
    pid="$(pid_of "$dir" "$name")"
    [ -z "$pid" ] || { step "stopping $name (pid $pid)"; stop_pid "$name" "$pid"; }
  done
  kill_pod_processes
  pid="$(pid_of "$dir" containerd)"
  [ -z "$pid" ] || { step "stopping containerd (pid $pid)"; stop_pid containerd "$pid"; }
  for pid in $(shim_pids); do kill -KILL "$pid" 2>/dev/null || true; done
  unmount_below "$NODE_RUN" "$dir/node/kubelet"
  find /sys/fs/cgroup/*/"$CGROUP_ROOT" -depth -type d -exec rmdir {} + 2>/dev/null || true
  if [ -e "$NETNS_PATH" ]; then
    ip netns delete "$NODE_NETNS" 2>/dev/null || { umount "$NETNS_PATH" 2>/dev/null; rm -f "$NETNS_PATH"; }
  fi
  ip link show "$HOST_VETH" >/dev/null 2>&1 && ip link delete "$HOST_VETH"
  rm -rf "$NODE_RUN"
  rm -f "$dir"/pids/{containerd,kubelet,kube-proxy}.pid
}

# Creates the namespace, the veth pair, the pods' bridge and the routes, unless this run directory's
# node has them already. Leftovers of an interrupted run are removed first; a node of another run
# directory that still runs is an error.
node_network_up() {
  local owner
  owner="$(node_owner)"
  if [ -e "$NETNS_PATH" ] || [ -n "$owner" ] || ip link show "$HOST_VETH" >/dev/null 2>&1; then
    if [ "$owner" = "$RUN_DIR" ] && [ -e "$NETNS_PATH" ] && ip link show "$HOST_VETH" >/dev/null 2>&1; then
      echo "    namespace $NODE_NETNS and veth $HOST_VETH already set up"
      return 0
    fi
    if [ -n "$owner" ] && [ "$owner" != "$RUN_DIR" ] && cluster_alive "$owner"; then
      die "a real node of $owner is running (one per machine): stop it with hack/cluster-down.sh $owner"
    fi
    echo "    removing the leftovers of an earlier node (${owner:-unknown run directory})"
    node_teardown "${owner:-$RUN_DIR}"
  fi
  if ip -o addr show to "$VETH_CIDR" | grep -q . || ip route show "$POD_CIDR" | grep -q . \
     || ip route show "$SERVICE_CIDR" | grep -q .; then
    die "$VETH_CIDR, $POD_CIDR or $SERVICE_CIDR is already in use on this machine (ip addr; ip route)"
  fi
  mkdir -p "$NODE_RUN"
  echo "$RUN_DIR" >"$NODE_RUN/owner"
  ip netns add "$NODE_NETNS"
  ip link add "$HOST_VETH" type veth peer name eth0 netns "$NODE_NETNS"
  ip addr add "$HOST_IP/30" dev "$HOST_VETH"
  ip link set "$HOST_VETH" up
  in_node ip link set lo up
  in_node ip addr add "$NODE_IP/30" dev eth0
  in_node ip link set eth0 up
  # Forwarding inside the node's namespace only (between the pods' bridge and the veth); bridged
  # pod traffic through iptables, so a pod reaching a Service that lands on a pod works.
  in_node sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1
  # The pods' bridge, created here rather than by CNI on the first pod, so that the Service range
  # can be routed at once: processes in the namespace reach ClusterIPs before kube-proxy's DNAT.
  in_node ip link add cni0 type bridge
  in_node ip addr add "$POD_GATEWAY/24" dev cni0
  in_node ip link set cni0 up
  in_node ip route add "$SERVICE_CIDR" dev cni0
  ip route add "$POD_CIDR" via "$NODE_IP" dev "$HOST_VETH"
  ip route add "$SERVICE_CIDR" via "$NODE_IP" dev "$HOST_VETH"
  echo "    namespace $NODE_NETNS: $HOST_VETH $HOST_IP (host) <-> eth0 $NODE_IP (node); routes $POD_CIDR, $SERVICE_CIDR via $NODE_IP"
}

# One cgroup per hierarchy that the kubelet nests every pod under (cgroupRoot).
node_cgroups_up() {
  local hierarchy
  for hierarchy in /sys/fs/cgroup/*/; do
    if [ ! -f "$hierarchy/cgroup.procs" ] || [ "$(stat -fc %T "$hierarchy")" != cgroupfs ]; then continue; fi
    mkdir -p "$hierarchy$CGROUP_ROOT"
    if [ -f "$hierarchy/cpuset.cpus" ]; then
      cat "$hierarchy/cpuset.cpus" >"$hierarchy$CGROUP_ROOT/cpuset.cpus"
      cat "$hierarchy/cpuset.mems" >"$hierarchy$CGROUP_ROOT/cpuset.mems"
    fi
  done
}
