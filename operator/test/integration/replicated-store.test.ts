// The replicated managed store against the real API server (KWOK pods: Running and Ready, but no
// process answers in them): its objects, its status when the Sentinels cannot be asked, the
// schema's refusals, switching between one Redis and three, and the RBAC its objects need.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { V1ConfigMap, V1Deployment } from '@kubernetes/client-node';
import yaml from 'js-yaml';

import { operatorRequests } from './harness/audit.js';
import { configMapOf, deploymentOf, pdbOf, secretValue, storeOf } from './harness/children.js';
import { eventually } from './harness/eventually.js';
import { condition, ignoreNotFound, isReadyAtGeneration, type NexusRuntime } from './harness/kube.js';
import { OperatorProcess } from './harness/operator-process.js';
import { CONFIG_DIR } from './harness/paths.js';
import { useSuite, waitReady, waitRuntime } from './harness/suite.js';

const suite = useSuite('replicated');
const started = new Date();

interface StoreStatus {
  mode?: string;
  endpoint?: string;
  replicas?: number;
  primary?: string;
  replication?: string;
}

const storeStatus = (r: NexusRuntime) => (r.status?.store ?? {}) as StoreStatus;
const readyWith = (replicas: number) => (r: NexusRuntime) =>
  isReadyAtGeneration(r) && storeStatus(r).replicas === replicas;

async function service(name: string) {
  return ignoreNotFound(suite.cluster.core.readNamespacedService({ namespace: suite.namespace, name }));
}

function storeUrlKey(deployment: V1Deployment | undefined): string | undefined {
  const kernel = deployment?.spec?.template.spec?.containers.find((c) => c.name === 'kernel');
  return kernel?.env?.find((e) => e.name === 'STORE_URL')?.valueFrom?.secretKeyRef?.key;
}

describe('a replicated managed store', () => {
  beforeAll(async () => {
    await OperatorProcess.start(suite.cluster.state, { identity: 'replicated' });
  });

  test('three pods of Redis and Sentinel, their Services, budget and policy; the kernels start from the Sentinels', async () => {
    await suite.cluster.createRuntime(suite.namespace, 'ha', { store: { managed: { replicas: 3 } } });
    const runtime = await waitRuntime(suite, 'ha', 'Ready with 3 store pods', readyWith(3), {
      timeoutMs: 120_000,
    });
    const store = await storeOf(suite, 'ha');
    const pod = store.statefulSet?.spec?.template.spec;
    expect(store.statefulSet?.spec).toMatchObject({ replicas: 3, serviceName: 'ha-store-pods' });
    expect(pod?.containers.map((c) => c.name)).toEqual(['redis', 'sentinel']);
    expect(pod?.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution).toHaveLength(1);

    const headless = await service('ha-store-pods');
    expect(headless?.spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true });
    const sentinels = await service('ha-store-sentinel');
    expect(sentinels?.spec?.ports?.map((p) => p.port)).toEqual([26379]);
    expect((await pdbOf(suite, 'ha-store'))?.spec).toMatchObject({ maxUnavailable: 1 });
    expect(store.networkPolicy?.spec?.egress).toHaveLength(2);
    expect(store.config?.data?.['sentinel.conf']).toContain('sentinel announce-hostnames yes');

    const config: V1ConfigMap | undefined = await configMapOf(suite, 'ha');
    expect(config?.data).toMatchObject({
      STORE_TOPOLOGY: 'sentinel',
      STORE_SENTINEL_MASTER: 'nexus',
      STORE_ACK_REPLICAS: '1',
    });
    expect(config?.data?.STORE_SENTINELS?.split(',')).toHaveLength(3);
    expect(storeUrlKey(await deploymentOf(suite, 'ha'))).toBe('sentinelUrl');
    expect(secretValue(store.secret, 'sentinelUrl')).toMatch(
      new RegExp(`^redis://:[0-9a-f]+@ha-store-sentinel\\.${suite.namespace}\\.svc:26379$`),
    );

    // The operator runs outside this cluster's network: it cannot ask the Sentinels, and says so
    // without holding the store back (every pod is Ready, which a replica is only in sync).
    expect(storeStatus(runtime)).toMatchObject({
      mode: 'Managed',
      replicas: 3,
      endpoint: `ha-store-sentinel.${suite.namespace}.svc:26379`,
    });
    expect(storeStatus(runtime)).not.toHaveProperty('primary');
    expect(storeStatus(runtime).replication).toMatch(/^the Sentinels did not answer the operator: /);
    expect(condition(runtime, 'StoreReady')).toMatchObject({ status: 'True', reason: 'StoreAvailable' });
    expect(runtime.status?.memoryBudget?.store).toMatchObject({ pods: 3, totalMemoryLimitMB: 2496 });
    // `kubectl get -o wide` has a column for the primary (empty here: the Sentinels were not heard).
    const wide = suite.cluster.kubectlOk(['get', '-n', suite.namespace, 'nxr/ha', '-o', 'wide']);
    expect(wide.split('\n')[0]).toMatch(/STORE PRIMARY/);
  });

  test('the schema refuses an even number of pods and more acknowledgements than replicas', () => {
    const apply = (name: string, managed: object) =>
      suite.cluster.kubectl(
        ['create', '-n', suite.namespace, '-f', '-'],
        JSON.stringify({
          apiVersion: 'nexus.dev/v1alpha1',
          kind: 'NexusRuntime',
          metadata: { name },
          spec: { store: { managed } },
        }),
      );
    const even = apply('even', { replicas: 2 });
    expect(even.status).not.toBe(0);
    expect(even.stderr).toMatch(/store.managed.replicas must be odd/);
    const acks = apply('acks', { replicas: 3, durability: { ackReplicas: 3 } });
    expect(acks.status).not.toBe(0);
    expect(acks.stderr).toMatch(/ackReplicas must be at most store.managed.replicas - 1/);
    const single = apply('single-acks', { durability: { ackReplicas: 1 } });
    expect(single.status).not.toBe(0);
  });

  test('1 → 3 keeps the StatefulSet, its volume and the password; 3 → 1 returns to one Redis', async () => {
    await suite.cluster.createRuntime(suite.namespace, 'grow', {});
    await waitReady(suite, 'grow');
    const before = await storeOf(suite, 'grow');
    expect(before.statefulSet?.spec?.replicas).toBe(1);
    expect(await service('grow-store-sentinel')).toBeUndefined();

    await suite.cluster.patchRuntimeSpec(suite.namespace, 'grow', { store: { managed: { replicas: 3 } } });
    await waitRuntime(suite, 'grow', 'Ready with 3 store pods', readyWith(3), { timeoutMs: 120_000 });
    const grown = await storeOf(suite, 'grow');
    // The same StatefulSet: its first pod, and the volume claim data-grow-store-0, are the ones
    // one Redis had, and its data is what the new replicas copy.
    expect(grown.statefulSet?.metadata?.uid).toBe(before.statefulSet?.metadata?.uid);
    expect(grown.statefulSet?.spec?.volumeClaimTemplates).toEqual(
      before.statefulSet?.spec?.volumeClaimTemplates,
    );
    expect(grown.statefulSet?.spec?.replicas).toBe(3);
    expect(secretValue(grown.secret, 'password')).toBe(secretValue(before.secret, 'password'));
    expect(await service('grow-store-sentinel')).toBeDefined();
    expect(storeUrlKey(await deploymentOf(suite, 'grow'))).toBe('sentinelUrl');

    await suite.cluster.patchRuntimeSpec(suite.namespace, 'grow', { store: { managed: { replicas: 1 } } });
    const shrunk = await waitRuntime(suite, 'grow', 'Ready with 1 store pod', readyWith(1), {
      timeoutMs: 120_000,
    });
    await eventually('the Sentinel Service and the store budget to be deleted', async () => {
      return (
        (await service('grow-store-sentinel')) === undefined &&
        (await pdbOf(suite, 'grow-store')) === undefined
      );
    });
    const back = await storeOf(suite, 'grow');
    expect(back.statefulSet?.metadata?.uid).toBe(before.statefulSet?.metadata?.uid);
    expect(back.statefulSet?.spec?.replicas).toBe(1);
    expect(back.statefulSet?.spec?.template.spec?.containers.map((c) => c.name)).toEqual(['redis']);
    expect((await configMapOf(suite, 'grow'))?.data?.STORE_TOPOLOGY).toBe('standalone');
    expect(storeUrlKey(await deploymentOf(suite, 'grow'))).toBe('url');
    expect(storeStatus(shrunk)).not.toHaveProperty('replication');
  });

  test('a Secret without the Sentinels’ URL is written again with the same password', async () => {
    await suite.cluster.createRuntime(suite.namespace, 'old', {});
    await waitReady(suite, 'old');
    const secret = (await storeOf(suite, 'old')).secret!;
    const password = secretValue(secret, 'password');
    // A Secret as an operator before replication wrote it: password and url only (replaced by
    // the admin; the operator never writes a Secret it has, so it stays so).
    await suite.cluster.core.replaceNamespacedSecret({
      namespace: suite.namespace,
      name: 'old-store',
      body: { ...secret, data: { password: secret.data!.password!, url: secret.data!.url! } },
    });
    expect(secretValue((await storeOf(suite, 'old')).secret, 'sentinelUrl')).toBeUndefined();
    await suite.cluster.patchRuntimeSpec(suite.namespace, 'old', { store: { managed: { replicas: 3 } } });
    await waitRuntime(suite, 'old', 'Ready with 3 store pods', readyWith(3), { timeoutMs: 120_000 });
    const rewritten = (await storeOf(suite, 'old')).secret;
    expect(secretValue(rewritten, 'password')).toBe(password);
    expect(secretValue(rewritten, 'sentinelUrl')).toContain(
      `@old-store-sentinel.${suite.namespace}.svc:26379`,
    );
  });

  test('the operator needed no permission beyond its ClusterRole', () => {
    const role = yaml.load(readFileSync(join(CONFIG_DIR, 'rbac', 'role.yaml'), 'utf8')) as {
      rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
    };
    const granted = new Set(
      role.rules.flatMap((rule) =>
        rule.resources.flatMap((resource) => rule.verbs.map((verb) => `${verb} ${resource}`)),
      ),
    );
    const requests = operatorRequests(suite.cluster.state, started);
    expect(requests.forbidden).toBe(0);
    const used = Object.keys(requests.byVerbAndResource);
    expect(used.filter((u) => !granted.has(u) && !u.endsWith(' leases') && !u.endsWith(' -'))).toEqual([]);
  });
});
