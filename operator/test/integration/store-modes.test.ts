// Switching store modes while the NexusRuntime lives on, deleting runtimes (volumes kept when
// asked), and — over everything this file made the operator do — RBAC that grants exactly the verbs
// the operator uses, under its own ServiceAccount token.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import yaml from 'js-yaml';

import { operatorRequests } from './harness/audit.js';
import { deploymentOf, eventOn, eventsOn, hpaOf, pdbOf, storeOf, volumeOf } from './harness/children.js';
import { eventually } from './harness/eventually.js';
import { condition, isReadyAtGeneration, type NexusRuntime } from './harness/kube.js';
import { OperatorProcess } from './harness/operator-process.js';
import { CONFIG_DIR } from './harness/paths.js';
import { useSuite, waitReady, waitRuntime } from './harness/suite.js';

const suite = useSuite('modes');
const started = new Date();

const inMode = (mode: string) => (r: NexusRuntime) =>
  isReadyAtGeneration(r) && (r.status?.store as { mode?: string } | undefined)?.mode === mode;

async function switchTo(name: string, store: Record<string, unknown>): Promise<NexusRuntime> {
  await suite.cluster.patchRuntimeSpec(suite.namespace, name, { store });
  return waitRuntime(suite, name, `Ready in mode ${String(store.mode)}`, inMode(String(store.mode)), {
    timeoutMs: 120_000,
  });
}

describe('switching store modes', () => {
  beforeAll(async () => {
    await OperatorProcess.start(suite.cluster.state, { identity: 'modes' });
    await suite.cluster.core.createNamespacedSecret({
      namespace: suite.namespace,
      body: { metadata: { name: 'their-redis' }, stringData: { url: 'redis://redis.shared.internal:6379' } },
    });
  });

  test('Managed → External: the managed store is deleted, the kernels point at the external one', async () => {
    await suite.cluster.createRuntime(suite.namespace, 'switch', {});
    await waitReady(suite, 'switch');
    expect(Object.keys(await storeOf(suite, 'switch'))).toHaveLength(5);

    const external = await switchTo('switch', {
      mode: 'External',
      external: { urlSecretRef: { name: 'their-redis', key: 'url' } },
    });
    expect(external.status?.store).toMatchObject({ endpoint: 'redis.shared.internal:6379' });
    await eventually('the managed store to be deleted', async () => {
      return Object.keys(await storeOf(suite, 'switch')).length === 0;
    });
    expect(await eventOn(suite, 'switch', 'StoreModeChanged')).toMatch(
      /from Managed to External: the panels of the managed store are not copied/,
    );
    expect(await eventOn(suite, 'switch', 'Deleted')).toMatch(/the store is no longer Managed/);
  });

  test('External → Embedded: one kernel on its own volume, HPA and PDB deleted, and a Warning saying what is lost', async () => {
    await switchTo('switch', { mode: 'Embedded' });
    await eventually('the HPA and the PDB to be deleted', async () => {
      return (await hpaOf(suite, 'switch')) === undefined && (await pdbOf(suite, 'switch')) === undefined;
    });
    const deployment = await deploymentOf(suite, 'switch');
    expect(deployment?.spec?.replicas).toBe(1);
    expect(deployment?.spec?.strategy?.type).toBe('Recreate');
    expect((await volumeOf(suite, 'switch-panels'))?.status?.phase).toBe('Bound');
    const warnings = await suite.cluster.core.listNamespacedEvent({
      namespace: suite.namespace,
      fieldSelector: 'involvedObject.name=switch,type=Warning,reason=StoreModeChanged',
    });
    expect(warnings.items.map((e) => e.message).join('\n')).toMatch(
      /from External to Embedded: the panels of the external store are not copied/,
    );
  });

  test('Embedded → Managed: one kernel imports the volume, which is then deleted, and the fleet scales out', async () => {
    await suite.cluster.patchRuntimeSpec(suite.namespace, 'switch', { store: { mode: 'Managed' } });
    await eventOn(suite, 'switch', 'PanelsImported');
    const managed = await waitRuntime(
      suite,
      'switch',
      'Ready with the fleet and without the panels volume',
      (r) => inMode('Managed')(r) && condition(r, 'Progressing')?.reason === 'RolloutComplete',
      { timeoutMs: 120_000 },
    );
    await eventually(
      'the panels volume to be gone',
      async () => (await volumeOf(suite, 'switch-panels')) === undefined,
      { timeoutMs: 120_000 },
    );
    const deployment = await eventually('the fleet Deployment', async () => {
      const d = await deploymentOf(suite, 'switch');
      return d?.spec?.strategy?.type === 'RollingUpdate' ? d : undefined;
    });
    expect(deployment.spec?.template.spec?.volumes?.map((v) => v.name)).not.toContain('panels');
    expect(await hpaOf(suite, 'switch')).toBeDefined();
    expect(condition(managed, 'StoreReady')?.status).toBe('True');
    expect((await eventsOn(suite, 'switch', 'StoreModeChanged')).join('\n')).toMatch(
      /from Embedded to Managed: one kernel starts against the shared store/,
    );

    // The rollout history: one kernel had both the store and the volume, and it started only once
    // the store was ready (the kernel imports when it starts).
    const sets = await suite.cluster.apps.listNamespacedReplicaSet({
      namespace: suite.namespace,
      labelSelector: 'app.kubernetes.io/instance=switch,app.kubernetes.io/name=workspace-kernel',
    });
    const importer = sets.items.find(
      (rs) => rs.spec?.template?.metadata?.annotations?.['nexus.dev/panels-import'] === 'switch-panels',
    );
    expect(importer).toBeDefined();
    const container = importer!.spec!.template!.spec!.containers[0]!;
    expect(container.env?.map((e) => e.name)).toContain('STORE_URL');
    expect(container.volumeMounts).toContainEqual(expect.objectContaining({ name: 'panels' }));
    const [storePod] = (
      await suite.cluster.core.listNamespacedPod({
        namespace: suite.namespace,
        labelSelector: 'app.kubernetes.io/instance=switch,app.kubernetes.io/name=nexus-store',
      })
    ).items;
    const storeReadyAt = storePod?.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime;
    expect(storeReadyAt).toBeDefined();
    expect(new Date(importer!.metadata!.creationTimestamp!).getTime()).toBeGreaterThanOrEqual(
      new Date(storeReadyAt!).getTime(),
    );
  });

  test('deleting a NexusRuntime collects everything it owns, and keeps the volumes asked to be kept', async () => {
    await suite.cluster.createRuntime(suite.namespace, 'collected', {});
    await suite.cluster.createRuntime(suite.namespace, 'kept', {
      store: { managed: { persistence: { retainOnDelete: true } } },
    });
    await suite.cluster.createRuntime(suite.namespace, 'kept-embedded', {
      store: { mode: 'Embedded', embedded: { volume: { retainOnDelete: true } } },
    });
    for (const name of ['collected', 'kept', 'kept-embedded']) await waitReady(suite, name);
    await eventually('the store volumes to be bound', async () => {
      const claims = await Promise.all(
        ['data-collected-store-0', 'data-kept-store-0'].map((n) => volumeOf(suite, n)),
      );
      return claims.every((c) => c?.status?.phase === 'Bound');
    });
    expect((await volumeOf(suite, 'kept-embedded-panels'))?.metadata?.ownerReferences ?? []).toEqual([]);

    for (const name of ['collected', 'kept', 'kept-embedded'])
      await suite.cluster.deleteRuntime(suite.namespace, name);
    await eventually(
      'the garbage collector to remove the kernels and the stores',
      async () => {
        for (const name of ['collected', 'kept', 'kept-embedded']) {
          if (await deploymentOf(suite, name)) return false;
          if (Object.keys(await storeOf(suite, name)).length > 0) return false;
        }
        return true;
      },
      { timeoutMs: 120_000 },
    );
    await eventually(
      'the store volume of the collected runtime to be deleted',
      async () => {
        return (await volumeOf(suite, 'data-collected-store-0')) === undefined;
      },
      { timeoutMs: 120_000 },
    );
    expect(await volumeOf(suite, 'data-kept-store-0')).toBeDefined();
    expect(await volumeOf(suite, 'kept-embedded-panels')).toBeDefined();
  });

  test('the operator used its own ServiceAccount token, every verb its ClusterRole grants, and no other', () => {
    const role = yaml.load(readFileSync(join(CONFIG_DIR, 'rbac', 'role.yaml'), 'utf8')) as {
      rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
    };
    const granted = new Set(
      role.rules.flatMap((rule) =>
        rule.resources.flatMap((resource) => rule.verbs.map((verb) => `${verb} ${resource}`)),
      ),
    );
    const requests = operatorRequests(suite.cluster.state, started);
    const used = new Set(Object.keys(requests.byVerbAndResource));
    expect(requests.forbidden).toBe(0);
    // Everything the operator asked for is granted (its Lease comes from a Role of its own; API
    // discovery, a request without a resource, is open to every authenticated user).
    expect([...used].filter((u) => !granted.has(u) && !u.endsWith(' leases') && !u.endsWith(' -'))).toEqual(
      [],
    );
    // Everything granted was used, except what the API server checks without a request of its own:
    // `create` of an object created by server-side apply (the request is a patch), and the
    // finalizers update that blockOwnerDeletion needs under OwnerReferencesPermissionEnforcement.
    const implied = (grant: string) => {
      const [verb, resource] = grant.split(' ');
      if (resource === 'nexusruntimes/finalizers') return true;
      return verb === 'create' && used.has(`patch ${resource}`);
    };
    expect([...granted].filter((g) => !used.has(g) && !implied(g))).toEqual([]);
  });
});
