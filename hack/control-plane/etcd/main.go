// Command etcd runs the etcd server from the module version k8s.io/kubernetes depends on, so the
// control plane's storage builds from the same module graph as the API server.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
