// The control plane of a test run: global-setup.js starts it through hack/cluster-up.sh in a run
// directory of its own; tests restart killed components through the same script.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { HACK_DIR } from './paths.js';

/** What hack/cluster-up.sh records in RUN_DIR/cluster.env. */
export interface ClusterInfo {
  runDir: string;
  kubeconfig: string;
  kubectl: string;
  apiserverUrl: string;
  kubernetesVersion: string;
}

/** Written by global-setup.js for the test files: the cluster plus the operator's identity. */
export interface HarnessState extends ClusterInfo {
  /** A kubeconfig holding a token of the operator's own ServiceAccount (RBAC from config/rbac). */
  operatorKubeconfig: string;
  operatorNamespace: string;
  operatorServiceAccount: string;
  /** Binaries from hack/build-tools.sh. */
  tools: { helm: string; promtool: string; promqlMetrics: string };
}

export const STATE_ENV = 'NEXUS_IT_STATE';

function runScript(script: string, args: string[]): void {
  const result = spawnSync(join(HACK_DIR, script), args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) {
    throw new Error(`hack/${script} ${args.join(' ')} failed with exit code ${String(result.status)}`);
  }
}

function parseEnvFile(text: string): Record<string, string> {
  const entries = text
    .split('\n')
    .map((line) => /^([A-Z_]+)=(.*)$/.exec(line.trim()))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => [match[1]!, match[2]!] as const);
  return Object.fromEntries(entries);
}

/** Starts (or completes) the control plane in `runDir`; only components not running are started. */
export function startCluster(runDir: string): ClusterInfo {
  runScript('cluster-up.sh', [runDir]);
  const env = parseEnvFile(readFileSync(join(runDir, 'cluster.env'), 'utf8'));
  const required = ['KUBECONFIG', 'KUBECTL', 'APISERVER_URL', 'KUBERNETES_VERSION'] as const;
  for (const key of required) {
    if (!env[key]) throw new Error(`${runDir}/cluster.env lacks ${key}`);
  }
  return {
    runDir,
    kubeconfig: env.KUBECONFIG!,
    kubectl: env.KUBECTL!,
    apiserverUrl: env.APISERVER_URL!,
    kubernetesVersion: env.KUBERNETES_VERSION!,
  };
}

/** The PID of a control-plane component (etcd, kube-apiserver, ...) of the test run's cluster. */
export function componentPid(runDir: string, component: string): number {
  const pid = Number(readFileSync(join(runDir, 'pids', `${component}.pid`), 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no PID recorded for ${component}`);
  return pid;
}

export function harnessState(): HarnessState {
  const file = process.env[STATE_ENV];
  if (!file) throw new Error(`${STATE_ENV} is not set: run the suite through jest.integration.config.js`);
  return JSON.parse(readFileSync(file, 'utf8')) as HarnessState;
}
