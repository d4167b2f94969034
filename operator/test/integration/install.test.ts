// The CRD as a user meets it: samples apply and become Ready, defaults show up in
// `kubectl get -o yaml`, `kubectl explain` documents the fields, invalid specs are refused at
// admission with a message naming the problem.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

import { runtimeOptions as sandbox } from '@nexus/bridge/limits';
import yaml from 'js-yaml';

import { configMapOf, deploymentOf, eventOn, hpaOf, isControlledBy } from './harness/children.js';
import { ignoreNotFound, type NexusRuntime } from './harness/kube.js';
import { OperatorProcess } from './harness/operator-process.js';
import { SAMPLES_DIR } from './harness/paths.js';
import { useSuite, waitReady } from './harness/suite.js';

const suite = useSuite('install');

/** A document `kubectl apply -o yaml` prints: one object, or a List of them. */
interface ManifestDoc {
  kind: string;
  metadata: { name: string };
  items?: ManifestDoc[];
}

// The sandbox's range, as the CRD takes it from the bridge's one table.
const minMemoryLimitMB = sandbox.memoryLimitBytes.min / 2 ** 20;
const maxMemoryLimitMB = sandbox.memoryLimitBytes.max / 2 ** 20;

function applyManifest(manifest: object) {
  return suite.cluster.kubectl(['apply', '-n', suite.namespace, '-f', '-'], yaml.dump(manifest));
}

function runtimeManifest(name: string, spec: Record<string, unknown>) {
  return { apiVersion: 'nexus.dev/v1alpha1', kind: 'NexusRuntime', metadata: { name }, spec };
}

describe('the NexusRuntime CRD and samples', () => {
  beforeAll(async () => {
    await OperatorProcess.start(suite.cluster.state, { identity: 'install' });
  });

  test('every sample applies and becomes Ready with its owned objects', async () => {
    const files = readdirSync(SAMPLES_DIR).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml');
    expect(files.length).toBeGreaterThanOrEqual(2);
    const names: string[] = [];
    for (const file of files) {
      const docs = yaml.loadAll(
        suite.cluster.kubectlOk([
          'apply',
          '-n',
          suite.namespace,
          '-f',
          join(SAMPLES_DIR, file),
          '-o',
          'yaml',
        ]),
      ) as ManifestDoc[];
      for (const doc of docs.flatMap((d): ManifestDoc[] => d.items ?? [d])) {
        if (doc.kind === 'NexusRuntime') names.push(doc.metadata.name);
      }
    }
    expect(names.length).toBeGreaterThanOrEqual(2);
    for (const name of names) {
      const runtime = await waitReady(suite, name);
      const configMap = await configMapOf(suite, name);
      const deployment = await deploymentOf(suite, name);
      const service = await ignoreNotFound(
        suite.cluster.core.readNamespacedService({ namespace: suite.namespace, name }),
      );
      expect(configMap && isControlledBy(configMap, runtime)).toBe(true);
      expect(deployment && isControlledBy(deployment, runtime)).toBe(true);
      expect(service && isControlledBy(service, runtime)).toBe(true);
      expect(runtime.status?.readyReplicas).toBeGreaterThanOrEqual(1);
      expect(runtime.status?.configHash).toMatch(/\S+/);
      await eventOn(suite, name, 'Created');
    }
    // `kubectl wait` is how the user waits; it must agree.
    suite.cluster.kubectlOk([
      'wait',
      '-n',
      suite.namespace,
      '--for=condition=Ready',
      '--timeout=30s',
      ...names.map((n) => `nexusruntime/${n}`),
    ]);
  });

  test('server-side defaults are visible with kubectl get -o yaml', async () => {
    const applied = applyManifest(runtimeManifest('defaults', {}));
    expect(applied.stderr).toBe('');
    const runtime = yaml.load(
      suite.cluster.kubectlOk(['get', '-n', suite.namespace, 'nxr/defaults', '-o', 'yaml']),
    ) as NexusRuntime;
    expect(runtime.spec).toMatchObject({
      replicas: 1,
      suspend: false,
      resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '1Gi' } },
      runtime: {
        memoryLimitMB: 32,
        minInstances: 1,
        timeoutMs: 5000,
        maxHostCalls: 10000,
        maxStateMutations: 1000,
        maxEvents: 100,
      },
      cache: { medium: 'Memory', sizeLimit: '128Mi' },
      autoscaling: { enabled: true, minReplicas: 1, maxReplicas: 10, targetMemoryUtilizationPercentage: 80 },
      server: { logLevel: 'info', maxBodySize: '1Mi' },
      // What a panel keeps in the store: the kernel's own defaults, through the schema.
      store: { history: 256, historySize: '1Mi', revisions: 5, logRing: { lines: 200, size: '256Ki' } },
    });
    const ready = await waitReady(suite, 'defaults');
    // maxInstances is derived from the budget and published, never invented by the schema.
    expect(ready.status?.memoryBudget).toMatchObject({ maxInstances: expect.any(Number), fits: true });
    const configMap = await configMapOf(suite, 'defaults');
    expect(configMap?.data).toMatchObject({
      MEMORY_LIMIT_MB: '32',
      MIN_INSTANCES: '1',
      HTTP_PORT: '3000',
      WS_PORT: '3001',
    });
    expect(Number(configMap?.data?.MAX_INSTANCES)).toBe(ready.status?.memoryBudget?.maxInstances);
    const hpa = await hpaOf(suite, 'defaults');
    expect(hpa?.spec?.maxReplicas).toBe(10);
  });

  test('kubectl explain documents the spec', () => {
    const explained = suite.cluster.kubectlOk(['explain', 'nexusruntime.spec.runtime']);
    expect(explained).toMatch(/memoryLimitMB/);
    expect(explained).toMatch(/maxInstances/);
    // Descriptions, not just field names.
    expect(explained.split('\n').filter((line) => /\w+ \w+ \w+/.test(line)).length).toBeGreaterThan(5);
    expect(
      suite.cluster.kubectlOk([
        'get',
        'crd',
        'nexusruntimes.nexus.dev',
        '-o',
        'jsonpath={.spec.names.shortNames}',
      ]),
    ).toMatch(/nxr/);
  });

  test('the ServiceAccount of the operator holds only what reconciling needs', () => {
    const { operatorNamespace, operatorServiceAccount } = suite.cluster.state;
    const as = `system:serviceaccount:${operatorNamespace}:${operatorServiceAccount}`;
    const can = (verb: string, resource: string, namespace = suite.namespace, ...extra: string[]) =>
      suite.cluster
        .kubectl(['auth', 'can-i', verb, resource, '--as', as, '-n', namespace, ...extra])
        .stdout.trim();
    // What the reconciler does.
    expect(can('patch', 'deployments.apps')).toBe('yes');
    expect(can('patch', 'statefulsets.apps')).toBe('yes');
    expect(can('delete', 'networkpolicies.networking.k8s.io')).toBe('yes');
    expect(can('patch', 'nexusruntimes.nexus.dev', suite.namespace, '--subresource=status')).toBe('yes');
    expect(can('update', 'leases.coordination.k8s.io', operatorNamespace)).toBe('yes');
    // Secrets: users' read by name, the store's created once — never changed.
    expect(can('get', 'secrets')).toBe('yes');
    expect(can('create', 'secrets')).toBe('yes');
    expect(can('patch', 'secrets')).toBe('no');
    expect(can('update', 'secrets')).toBe('no');
    // What it never needs.
    expect(can('get', 'deployments.apps')).toBe('no');
    expect(can('delete', 'deployments.apps')).toBe('no');
    expect(can('update', 'configmaps')).toBe('no');
    expect(can('create', 'pods')).toBe('no');
    expect(can('delete', 'namespaces')).toBe('no');
    expect(can('update', 'nexusruntimes.nexus.dev')).toBe('no');
    expect(can('update', 'customresourcedefinitions.apiextensions.k8s.io')).toBe('no');
    expect(can('update', 'leases.coordination.k8s.io', suite.namespace)).toBe('no');
  });

  const invalid: [string, Record<string, unknown>, RegExp][] = [
    [
      'memoryLimitMB below its minimum',
      { runtime: { memoryLimitMB: minMemoryLimitMB - 1 } },
      /memoryLimitMB/,
    ],
    [
      'memoryLimitMB above its maximum',
      { runtime: { memoryLimitMB: maxMemoryLimitMB + 1 } },
      /memoryLimitMB/,
    ],
    ['an unknown cache medium', { cache: { medium: 'Tape' } }, /medium/],
    [
      'minInstances above maxInstances',
      { runtime: { minInstances: 8, maxInstances: 4 } },
      /minInstances|maxInstances/,
    ],
    [
      'autoscaling minReplicas above maxReplicas',
      { autoscaling: { minReplicas: 5, maxReplicas: 2 } },
      /minReplicas|maxReplicas/,
    ],
    ['a negative replica count', { replicas: -1 }, /replicas/],
    [
      'an external store without its Secret',
      { store: { mode: 'External' } },
      /store.external.urlSecretRef is required/,
    ],
    [
      'a store limit that cannot hold maxmemory',
      { store: { managed: { maxmemory: '1Gi' } } },
      /store.managed.resources.limits.memory must hold store.managed.maxmemory/,
    ],
    ['a key prefix with braces', { store: { keyPrefix: 'a{b}' } }, /keyPrefix/],
    ['no revision kept', { store: { revisions: 0 } }, /revisions/],
    [
      'a log ring larger than the kernel keeps',
      { store: { logRing: { size: '32Mi' } } },
      /logRing.size.*must be a quantity from 0 to 16Mi/,
    ],
    ['a body limit below 1Ki', { server: { maxBodySize: '512' } }, /must be a quantity from 1Ki to 64Mi/],
    ['an egress range that is no CIDR', { networkPolicy: { egressCIDRs: ['nope'] } }, /must be a CIDR/],
    [
      'an execution deadline below the handler timeout',
      { runtime: { timeoutMs: 10000, executionDeadlineMs: 5000 } },
      /executionDeadlineMs must be at least runtime.timeoutMs/,
    ],
    [
      'a pool that cannot fit the memory limit',
      { resources: { limits: { memory: '256Mi' } }, runtime: { memoryLimitMB: 64, maxInstances: 50 } },
      /memory|budget|maxInstances/i,
    ],
  ];
  test.each(invalid)('admission rejects %s with a readable message', async (_what, spec, mentions) => {
    const name = `invalid-${Math.random().toString(36).slice(2, 8)}`;
    const result = applyManifest(runtimeManifest(name, spec));
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/invalid|Invalid|must|should/);
    expect(result.stderr).toMatch(mentions);
    // The message is for people: no Go struct dumps.
    expect(result.stderr).not.toMatch(/map\[|&\{/);
    // Nothing was stored.
    const stored = await ignoreNotFound(suite.cluster.getRuntime(suite.namespace, name));
    expect(stored).toBeUndefined();
  });
});
