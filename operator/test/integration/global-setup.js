// Jest global setup: a control plane of the suite's own (cached binaries, a fresh run directory),
// what `kubectl apply -k config/default` installs minus the manager Deployment (the tests run the
// operator as a local process instead), a token of the operator's own ServiceAccount so every
// request the operator makes goes through the RBAC of config/rbac, and the chart and monitoring
// tools of hack/build-tools.sh (helm, promtool, promql-metrics) with the Prometheus Operator's
// CRDs installed, so ServiceMonitor, PodMonitor and PrometheusRule objects apply.
//
// Plain JavaScript: jest loads global setup through Node's own loader, which cannot resolve the
// TypeScript harness. The state file it writes is typed by HarnessState in harness/cluster.ts.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import yaml from 'js-yaml';

import { startStorageControllers, storageManifests } from './storage-setup.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const TOKEN_DURATION = '4h';
/** hostPath volumes for the claims of the whole run (managed stores, embedded panels). */
const VOLUMES = Number(process.env.NEXUS_IT_VOLUMES ?? 120);

function run(command, args, input) {
  const result = spawnSync(command, args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${result.status}): ${result.stderr.trim()}`);
  }
  return result.stdout;
}

function parseEnvFile(text) {
  return Object.fromEntries(
    text
      .split('\n')
      .map((line) => /^([A-Z_]+)=(.*)$/.exec(line.trim()))
      .filter((match) => match !== null)
      .map((match) => [match[1], match[2]]),
  );
}

/** HELM=..., PROMTOOL=... from hack/build-tools.sh, which builds (once, with progress) what is missing. */
function buildTools() {
  console.log('\n==> helm, promtool and promql-metrics (hack/build-tools.sh; cached after the first build)');
  const result = spawnSync(join(REPO_ROOT, 'hack/build-tools.sh'), ['--print-env'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (result.status !== 0) throw new Error(`hack/build-tools.sh failed with exit code ${result.status}`);
  const tools = parseEnvFile(result.stdout);
  for (const key of ['HELM', 'PROMTOOL', 'PROMQL_METRICS', 'PROMETHEUS_OPERATOR_CRDS']) {
    if (!tools[key]) throw new Error(`hack/build-tools.sh --print-env printed no ${key}`);
  }
  return tools;
}

export default async function globalSetup() {
  const tools = buildTools();
  const runDir = mkdtempSync(join(tmpdir(), 'nexus-it-'));
  process.env.NEXUS_IT_RUN_DIR = runDir;
  console.log(`\n==> control plane for the cluster tests in ${runDir}`);
  const up = spawnSync(join(REPO_ROOT, 'hack/cluster-up.sh'), [runDir], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (up.status !== 0) throw new Error(`hack/cluster-up.sh failed with exit code ${up.status}`);
  const env = parseEnvFile(readFileSync(join(runDir, 'cluster.env'), 'utf8'));
  const kubectl = (args, input) => run(env.KUBECTL, ['--kubeconfig', env.KUBECONFIG, ...args], input);

  console.log(`==> StatefulSet and volume controllers, a default StorageClass and ${VOLUMES} volumes`);
  await startStorageControllers({ ...env, RUN_DIR: runDir });
  kubectl(['apply', '-f', '-'], storageManifests(runDir, VOLUMES));

  console.log('==> installing config/default without the manager Deployment');
  const objects = yaml.loadAll(kubectl(['kustomize', join(REPO_ROOT, 'config/default')])).filter(Boolean);
  const installable = objects.filter((o) => o.kind !== 'Deployment');
  const serviceAccount = installable.find((o) => o.kind === 'ServiceAccount');
  if (!serviceAccount?.metadata?.namespace) {
    throw new Error('config/default renders no namespaced ServiceAccount for the operator');
  }
  const crds = installable.filter((o) => o.kind === 'CustomResourceDefinition');
  const ordered = [...crds, ...installable.filter((o) => o.kind !== 'CustomResourceDefinition')];
  kubectl(['apply', '--server-side', '-f', '-'], ordered.map((o) => yaml.dump(o)).join('---\n'));
  for (const crd of crds) {
    kubectl(['wait', '--for=condition=Established', '--timeout=60s', `crd/${crd.metadata.name}`]);
  }

  console.log('==> the Prometheus Operator CRDs (ServiceMonitor, PodMonitor, PrometheusRule)');
  kubectl(['apply', '--server-side', '-f', tools.PROMETHEUS_OPERATOR_CRDS]);
  for (const plural of ['servicemonitors', 'podmonitors', 'prometheusrules']) {
    kubectl(['wait', '--for=condition=Established', '--timeout=60s', `crd/${plural}.monitoring.coreos.com`]);
  }

  const { name, namespace } = serviceAccount.metadata;
  const token = kubectl(['create', 'token', name, '-n', namespace, `--duration=${TOKEN_DURATION}`]).trim();
  const operatorKubeconfig = join(runDir, 'operator.kubeconfig');
  writeFileSync(
    operatorKubeconfig,
    yaml.dump({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'nexus-local',
          cluster: { server: env.APISERVER_URL, 'certificate-authority': join(runDir, 'pki/ca.crt') },
        },
      ],
      users: [{ name, user: { token } }],
      contexts: [{ name: 'operator', context: { cluster: 'nexus-local', user: name, namespace } }],
      'current-context': 'operator',
    }),
    { mode: 0o600 },
  );

  const state = {
    runDir,
    kubeconfig: env.KUBECONFIG,
    kubectl: env.KUBECTL,
    apiserverUrl: env.APISERVER_URL,
    kubernetesVersion: env.KUBERNETES_VERSION,
    operatorKubeconfig,
    operatorNamespace: namespace,
    operatorServiceAccount: name,
    tools: {
      helm: tools.HELM,
      promtool: tools.PROMTOOL,
      promqlMetrics: tools.PROMQL_METRICS,
    },
  };
  const stateFile = join(runDir, 'harness.json');
  writeFileSync(stateFile, JSON.stringify(state, null, 2));
  process.env.NEXUS_IT_STATE = stateFile;
}
