// The panel store, mode by mode: a managed store's objects and its password that never changes, an
// external store's Secret that is missing and then appears, an embedded store's single kernel.
import { PatchStrategy, setHeaderOptions, type V1Deployment } from '@kubernetes/client-node';

import {
  configMapOf,
  deploymentOf,
  eventOn,
  eventsOn,
  hpaOf,
  isControlledBy,
  networkPolicyOf,
  pdbOf,
  rolledOut,
  secretValue,
  storeOf,
  volumeOf,
} from './harness/children.js';
import { consistently, eventually } from './harness/eventually.js';
import { condition, isReadyAtGeneration } from './harness/kube.js';
import { OperatorProcess } from './harness/operator-process.js';
import { useSuite, waitReady, waitRuntime } from './harness/suite.js';

const suite = useSuite('store');
let operator: OperatorProcess;

const kernel = (d: V1Deployment | undefined) => d?.spec?.template.spec?.containers[0];
const storeHash = (d: V1Deployment | undefined) =>
  d?.spec?.template.metadata?.annotations?.['nexus.dev/store-secret-hash'];

/** Makes the operator run a pass over `name` now (an edit of an owned object queues its owner). */
async function poke(name: string): Promise<void> {
  const passes = await operator.metricSum('nexus_operator_reconcile_total');
  suite.cluster.kubectlOk([
    'annotate',
    '--overwrite',
    '-n',
    suite.namespace,
    `configmap/${name}-config`,
    `example.com/poked=${Date.now()}`,
  ]);
  await eventually(
    'a reconcile pass',
    async () => (await operator.metricSum('nexus_operator_reconcile_total')) > passes,
  );
}

describe('the panel store', () => {
  beforeAll(async () => {
    operator = await OperatorProcess.start(suite.cluster.state, { identity: 'store' });
  });

  test('Managed: Secret, ConfigMap, Service, StatefulSet and NetworkPolicy N-store, owned by the runtime', async () => {
    await suite.cluster.createRuntime(suite.namespace, 'managed', {});
    const runtime = await waitReady(suite, 'managed');
    const store = await storeOf(suite, 'managed');
    for (const object of Object.values(store) as { metadata?: { ownerReferences?: [] } }[]) {
      expect(isControlledBy(object, runtime)).toBe(true);
    }
    expect(Object.keys(store).sort()).toEqual([
      'config',
      'networkPolicy',
      'secret',
      'service',
      'statefulSet',
    ]);

    const password = secretValue(store.secret, 'password');
    expect(password).toMatch(/^[0-9a-f]{48}$/);
    expect(secretValue(store.secret, 'url')).toBe(
      `redis://:${password}@managed-store.${suite.namespace}.svc:6379`,
    );
    const conf = store.config?.data?.['redis.conf'] ?? '';
    for (const line of [
      'appendonly yes',
      'appendfsync everysec',
      'maxmemory-policy noeviction',
      'maxmemory 536870912',
    ]) {
      expect(conf.split('\n')).toContain(line);
    }
    expect(store.service?.spec?.ports).toEqual([expect.objectContaining({ name: 'redis', port: 6379 })]);

    // The first pod only: the one that stays primary when the store switches to replicas.
    expect(store.service?.spec?.selector).toMatchObject({
      'statefulset.kubernetes.io/pod-name': 'managed-store-0',
    });

    const sts = store.statefulSet!;
    expect(sts.spec?.replicas).toBe(1);
    // Governed by the headless Service, which gives the pod a DNS name.
    expect(sts.spec?.serviceName).toBe('managed-store-pods');
    expect(sts.spec?.persistentVolumeClaimRetentionPolicy).toEqual({
      whenDeleted: 'Delete',
      whenScaled: 'Retain',
    });
    expect(sts.spec?.volumeClaimTemplates?.[0]?.spec?.resources?.requests?.storage).toBe('1Gi');
    const pod = sts.spec!.template.spec!;
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.automountServiceAccountToken).toBe(false);
    const redis = pod.containers[0]!;
    expect(redis.image).toBe('localhost/nexus/redis:7.0');
    expect(redis.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
    });
    expect(redis.readinessProbe?.exec?.command?.join(' ')).toMatch(/redis-cli .* ping/);
    expect(JSON.stringify(redis.command)).not.toContain(password);
    // The claim the StatefulSet made was bound (a default StorageClass and volumes of the harness).
    const claim = await eventually('the store volume to be bound', async () => {
      const v = await volumeOf(suite, 'data-managed-store-0');
      return v?.status?.phase === 'Bound' ? v : undefined;
    });
    expect(claim.spec?.resources?.requests?.storage).toBe('1Gi');

    // Only this runtime's kernels reach the store; the store reaches nothing.
    expect(store.networkPolicy?.spec).toMatchObject({
      podSelector: {
        matchLabels: { 'app.kubernetes.io/name': 'nexus-store', 'app.kubernetes.io/instance': 'managed' },
      },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        {
          _from: [
            {
              podSelector: {
                matchLabels: {
                  'app.kubernetes.io/name': 'workspace-kernel',
                  'app.kubernetes.io/instance': 'managed',
                },
              },
            },
          ],
          ports: [{ port: 6379, protocol: 'TCP' }],
        },
      ],
    });
    expect(store.networkPolicy?.spec?.egress ?? []).toEqual([]);

    // The kernels: the URL from the Secret, their name from the downward API, grace above the deadline.
    const deployment = await deploymentOf(suite, 'managed');
    expect(kernel(deployment)?.env).toEqual(
      expect.arrayContaining([
        { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
        { name: 'STORE_URL', valueFrom: { secretKeyRef: { name: 'managed-store', key: 'url' } } },
      ]),
    );
    expect(deployment?.spec?.template.spec?.terminationGracePeriodSeconds).toBe(45);
    expect(deployment?.spec?.template.spec?.topologySpreadConstraints).toEqual([
      expect.objectContaining({
        topologyKey: 'kubernetes.io/hostname',
        whenUnsatisfiable: 'ScheduleAnyway',
        maxSkew: 1,
      }),
    ]);
    const data = (await configMapOf(suite, 'managed'))?.data ?? {};
    expect(data).toMatchObject({
      STORE_TOPOLOGY: 'standalone',
      STORE_KEY_PREFIX: 'nexus:',
      STORE_HISTORY: '256',
      STORE_HISTORY_BYTES: String(1024 * 1024),
      PANEL_REVISIONS: '5',
      PANEL_LOG_LINES: '200',
      PANEL_LOG_BYTES: String(256 * 1024),
      IDEMPOTENCY_KEYS: '256',
      IDEMPOTENCY_RESULT_BYTES: '1024',
      IDEMPOTENCY_TTL_SECONDS: '3600',
      BODY_LIMIT: String(1024 * 1024),
      EXECUTION_DEADLINE_MS: '30000',
      SHUTDOWN_GRACE_MS: '35000',
      // 512Mi of maxmemory / 10.9Mi a panel may hold at its bounds (status.memoryBudget.store).
      MAX_PANELS: '47',
      PANEL_CACHE_MAX_BYTES: String(64 * 1024 * 1024),
    });
    expect(JSON.stringify(data)).not.toContain(password);
    expect(runtime.status?.memoryBudget?.store).toMatchObject({
      maxPanels: 47,
      maxPanelsDerived: true,
      perPanelBytes: 11_399_184,
      // 47 × 11,399,184 bytes = 510.9Mi, rounded up.
      worstCaseMB: 511,
      fits: true,
      pods: 1,
      totalMemoryLimitMB: 768,
      totalCPULimitMillicores: 1000,
    });
    const policy = await networkPolicyOf(suite, 'managed');
    expect(policy?.spec?.egress).toEqual(
      expect.arrayContaining([
        {
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
        expect.objectContaining({ ports: [{ protocol: 'TCP', port: 6379 }] }),
      ]),
    );

    expect(runtime.status?.store).toEqual({
      mode: 'Managed',
      endpoint: `managed-store.${suite.namespace}.svc:6379`,
      secretName: 'managed-store',
      replicas: 1,
    });
    expect(condition(runtime, 'StoreReady')).toMatchObject({ status: 'True', reason: 'StoreAvailable' });
    expect(await eventOn(suite, 'managed', 'StoreCreated')).toMatch(/StatefulSet managed-store/);
  });

  test('the password is created once: many passes and an operator restart leave the Secret untouched', async () => {
    const before = (await storeOf(suite, 'managed')).secret!;
    for (let i = 0; i < 3; i++) await poke('managed');
    await operator.stop();
    operator = await OperatorProcess.start(suite.cluster.state, { identity: 'store-restarted' });
    await poke('managed');
    await waitReady(suite, 'managed');
    const after = (await storeOf(suite, 'managed')).secret!;
    expect(after.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
    expect(secretValue(after, 'password')).toBe(secretValue(before, 'password'));
  });

  test('a change of the Secret content rolls the kernels; re-applying the same spec does not', async () => {
    const before = await deploymentOf(suite, 'managed');
    await poke('managed');
    expect((await deploymentOf(suite, 'managed'))?.metadata?.generation).toBe(before?.metadata?.generation);
    const url = `redis://:rotated@managed-store.${suite.namespace}.svc:6379`;
    const encode = (v: string) => Buffer.from(v).toString('base64');
    await suite.cluster.core.patchNamespacedSecret(
      {
        namespace: suite.namespace,
        name: 'managed-store',
        body: { data: { password: encode('rotated'), url: encode(url) } },
      },
      // A merge patch, as `kubectl patch --type merge` sends it.
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const rolled = await eventually('the kernels to roll for the new Secret', async () => {
      const d = await deploymentOf(suite, 'managed');
      return storeHash(d) !== storeHash(before) ? d : undefined;
    });
    expect(rolled.metadata?.generation).toBeGreaterThan(before?.metadata?.generation ?? 0);
  });

  test('External: a missing Secret is Degraded and rolls nothing out; the Secret appearing recovers it', async () => {
    const external = { mode: 'External', external: { urlSecretRef: { name: 'redis-url', key: 'url' } } };
    await suite.cluster.createRuntime(suite.namespace, 'external', { store: external });
    const degraded = await waitRuntime(suite, 'external', 'Degraded with StoreSecretMissing', (r) => {
      return condition(r, 'Degraded')?.reason === 'StoreSecretMissing';
    });
    expect(condition(degraded, 'Degraded')?.message).toMatch(/Secret redis-url .*key "url"/);
    expect(condition(degraded, 'StoreReady')).toMatchObject({
      status: 'False',
      reason: 'StoreSecretMissing',
    });
    expect(condition(degraded, 'Ready')?.status).toBe('False');
    await consistently(
      'nothing to be rolled out',
      async () => (await deploymentOf(suite, 'external')) === undefined,
      3_000,
    );

    await suite.cluster.core.createNamespacedSecret({
      namespace: suite.namespace,
      body: {
        metadata: { name: 'redis-url' },
        stringData: { url: 'redis://:s3cret@redis.example.internal:6380/0' },
      },
    });
    // Seen by the pass's own read: the runtime is looked at again every 10 s while it waits.
    const ready = await waitReady(suite, 'external', { timeoutMs: 60_000 });
    expect(ready.status?.store).toEqual({
      mode: 'External',
      topology: 'standalone',
      secretName: 'redis-url',
      endpoint: 'redis.example.internal:6380',
    });
    expect(condition(ready, 'StoreReady')).toMatchObject({
      status: 'True',
      reason: 'ExternalStoreConfigured',
    });
    expect(await eventOn(suite, 'external', 'Recovered')).toMatch(/StoreSecretMissing/);
    const deployment = await deploymentOf(suite, 'external');
    expect(kernel(deployment)?.env).toContainEqual({
      name: 'STORE_URL',
      valueFrom: { secretKeyRef: { name: 'redis-url', key: 'url' } },
    });
    expect(await storeOf(suite, 'external')).toEqual({});
    expect((await networkPolicyOf(suite, 'external'))?.spec?.egress).toContainEqual({
      ports: [{ protocol: 'TCP', port: 6380 }],
    });

    // A URL that stops parsing is refused, and the running kernels are left as they are.
    const generation = deployment?.metadata?.generation;
    await suite.cluster.core.replaceNamespacedSecret({
      namespace: suite.namespace,
      name: 'redis-url',
      body: { metadata: { name: 'redis-url' }, stringData: { url: 'http://redis.example.internal' } },
    });
    await poke('external');
    const invalid = await waitRuntime(suite, 'external', 'Degraded with StoreURLInvalid', (r) => {
      return condition(r, 'Degraded')?.reason === 'StoreURLInvalid';
    });
    expect(condition(invalid, 'Degraded')?.message).toMatch(/redis or rediss/);
    expect(condition(invalid, 'Degraded')?.message).not.toMatch(/example\.internal/);
    expect((await deploymentOf(suite, 'external'))?.metadata?.generation).toBe(generation);
  });

  test('External with Sentinels: admission refuses Sentinel settings elsewhere and entries that are not host:port; the kernels get every Sentinel', async () => {
    const create = (name: string, external: object) =>
      suite.cluster.kubectl(
        ['create', '-n', suite.namespace, '-f', '-'],
        JSON.stringify({
          apiVersion: 'nexus.dev/v1alpha1',
          kind: 'NexusRuntime',
          metadata: { name },
          spec: {
            store: {
              mode: 'External',
              external: { urlSecretRef: { name: 'sentinel-url', key: 'url' }, ...external },
            },
          },
        }),
      );
    const standalone = create('standalone-sentinels', { sentinels: ['s2.example.internal:26379'] });
    expect(standalone.status).not.toBe(0);
    expect(standalone.stderr).toMatch(
      /store.external.sentinels is read with store.external.topology sentinel only/,
    );
    const cluster = create('cluster-master', { topology: 'cluster', masterName: 'panels' });
    expect(cluster.status).not.toBe(0);
    expect(cluster.stderr).toMatch(
      /store.external.masterName is read with store.external.topology sentinel only/,
    );
    for (const entry of [
      's2.example.internal',
      's2.example.internal:0',
      's2:65536',
      'fd00::2:26379',
      'redis://s2:26379',
    ]) {
      const malformed = create('malformed', {
        topology: 'sentinel',
        sentinels: ['ok.example.internal:26379', entry],
      });
      expect([entry, malformed.status !== 0]).toEqual([entry, true]);
      expect(malformed.stderr).toMatch(/sentinels\[1\]: Invalid value: "string": must be host:port/);
    }

    await suite.cluster.core.createNamespacedSecret({
      namespace: suite.namespace,
      body: {
        metadata: { name: 'sentinel-url' },
        stringData: { url: 'redis://:s3cret@s1.example.internal:26379' },
      },
    });
    await suite.cluster.createRuntime(suite.namespace, 'sentinel', {
      store: {
        mode: 'External',
        external: {
          urlSecretRef: { name: 'sentinel-url', key: 'url' },
          topology: 'sentinel',
          sentinels: ['s2.example.internal:26379', '[fd00::3]:26379'],
          masterName: 'panels',
        },
      },
    });
    const ready = await waitReady(suite, 'sentinel', { timeoutMs: 60_000 });
    expect(ready.status?.store).toEqual({
      mode: 'External',
      topology: 'sentinel',
      secretName: 'sentinel-url',
      endpoint: 's1.example.internal:26379',
    });
    expect((await configMapOf(suite, 'sentinel'))?.data).toMatchObject({
      STORE_TOPOLOGY: 'sentinel',
      STORE_SENTINELS: 's2.example.internal:26379,[fd00::3]:26379',
      STORE_SENTINEL_MASTER: 'panels',
      STORE_ACK_REPLICAS: '1',
      STORE_ACK_TIMEOUT_MS: '2000',
    });
    // The Sentinels name the primary by an address and port of their own: every port.
    const egress = (await networkPolicyOf(suite, 'sentinel'))?.spec?.egress ?? [];
    expect(egress.filter((rule) => rule.ports === undefined)).toHaveLength(1);
  });

  test('Embedded: one kernel, Recreate, panels on a volume of their own, no HPA and no PDB', async () => {
    await suite.cluster.createRuntime(suite.namespace, 'embedded', {
      replicas: 3,
      autoscaling: { enabled: true, maxReplicas: 5 },
      store: { mode: 'Embedded' },
    });
    const runtime = await waitReady(suite, 'embedded');
    const deployment = await eventually('one ready kernel', async () => {
      const d = await deploymentOf(suite, 'embedded');
      return d && rolledOut(d) ? d : undefined;
    });
    expect(deployment.spec?.replicas).toBe(1);
    expect(deployment.spec?.strategy).toEqual({ type: 'Recreate' });
    expect(deployment.spec?.template.spec?.volumes).toContainEqual(
      expect.objectContaining({ name: 'panels', persistentVolumeClaim: { claimName: 'embedded-panels' } }),
    );
    expect(kernel(deployment)?.env?.map((e) => e.name)).not.toContain('STORE_URL');
    expect((await configMapOf(suite, 'embedded'))?.data?.PERSIST_DIR).toBe('/var/lib/nexus/panels');
    const volume = await volumeOf(suite, 'embedded-panels');
    expect(volume?.status?.phase).toBe('Bound');
    expect(volume && isControlledBy(volume, runtime)).toBe(true);
    expect(await hpaOf(suite, 'embedded')).toBeUndefined();
    expect(await pdbOf(suite, 'embedded')).toBeUndefined();
    expect(await storeOf(suite, 'embedded')).toEqual({});
    expect(condition(runtime, 'StoreReady')?.message).toMatch(
      /spec.replicas and spec.autoscaling are ignored/,
    );
    expect(runtime.status?.desiredReplicas).toBe(1);
    expect(await eventOn(suite, 'embedded', 'ReplicasIgnored')).toMatch(/spec.replicas is 3/);
    expect(await eventsOn(suite, 'embedded', 'ReplicasIgnored')).toHaveLength(1);
    expect(isReadyAtGeneration(runtime)).toBe(true);
  });
});
