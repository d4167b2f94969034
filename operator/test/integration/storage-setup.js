// Storage and StatefulSets for the simulated cluster, from the test harness: hack/cluster-up.sh
// runs only the controllers a kernel fleet needs. A second kube-controller-manager of the same
// build runs the StatefulSet controller and the PersistentVolume controllers (binder and the two
// protection controllers), a default StorageClass without a provisioner marks the volumes, and a
// pool of hostPath PersistentVolumes is there for the binder to bind claims to. KWOK's pods never
// mount anything, so the paths are only recorded.
//
// Plain JavaScript, for the same reason as global-setup.js.
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';

import yaml from 'js-yaml';

export const STORAGE_CLASS = 'nexus-local';
const CONTROLLERS = [
  'statefulset-controller',
  'persistentvolume-binder-controller',
  'persistentvolumeclaim-protection-controller',
  'persistentvolume-protection-controller',
];

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const pidFile = (runDir) => join(runDir, 'harness-pids', 'kube-controller-manager-storage.pid');

/** Starts the storage controllers (detached, logging to RUN_DIR/logs); returns the PID. */
export async function startStorageControllers(env) {
  const binary = join(dirname(env.KUBECTL), `kube-controller-manager-${env.KUBERNETES_VERSION}`);
  if (!existsSync(binary)) throw new Error(`${binary} does not exist: run make control-plane-binaries`);
  const runDir = env.RUN_DIR;
  mkdirSync(join(runDir, 'harness-pids'), { recursive: true });
  const log = openSync(join(runDir, 'logs', 'kube-controller-manager-storage.log'), 'a');
  const child = spawn(
    binary,
    [
      `--kubeconfig=${env.KUBECONFIG}`,
      `--authentication-kubeconfig=${env.KUBECONFIG}`,
      `--authorization-kubeconfig=${env.KUBECONFIG}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${await freePort()}`,
      '--leader-elect=false',
      `--controllers=${CONTROLLERS.join(',')}`,
      '--pvclaimbinder-sync-period=2s',
      '--kube-api-qps=200',
      '--kube-api-burst=400',
      '--v=1',
    ],
    { detached: true, stdio: ['ignore', log, log] },
  );
  child.unref();
  writeFileSync(pidFile(runDir), String(child.pid));
  return child.pid;
}

/** Stops what startStorageControllers started, by its recorded PID. */
export function stopStorageControllers(runDir) {
  const file = pidFile(runDir);
  if (!existsSync(file)) return;
  const pid = Number(readFileSync(file, 'utf8').trim());
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // already gone
  }
}

/** The default StorageClass and `count` hostPath volumes; returns the manifests as one document. */
export function storageManifests(runDir, count) {
  const objects = [
    {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: {
        name: STORAGE_CLASS,
        annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' },
      },
      provisioner: 'kubernetes.io/no-provisioner',
      reclaimPolicy: 'Retain',
      volumeBindingMode: 'Immediate',
    },
  ];
  for (let i = 0; i < count; i++) {
    const name = `nexus-local-${String(i).padStart(3, '0')}`;
    objects.push({
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name, labels: { 'nexus.dev/test-volume': 'true' } },
      spec: {
        capacity: { storage: '10Gi' },
        accessModes: ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Retain',
        storageClassName: STORAGE_CLASS,
        hostPath: { path: join(runDir, 'volumes', name), type: 'DirectoryOrCreate' },
      },
    });
  }
  return objects.map((o) => yaml.dump(o)).join('---\n');
}
