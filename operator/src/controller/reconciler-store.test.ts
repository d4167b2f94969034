// The reconciler and the store: the Secret created once, external Secrets awaited, embedded
// kernels alone, modes switched, the store lost and back.
import type { V1ConfigMap, V1Deployment, V1PersistentVolumeClaim, V1Secret } from '@kubernetes/client-node';
import { PASSWORD } from '../testing/fixtures.js';
import { KEY, NS, setup } from '../testing/reconciler-setup.js';
import { EXTERNAL_RECHECK_MS } from './store.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const password = (cluster: ReturnType<typeof setup>['cluster']) => {
  const secret = cluster.get<V1Secret>('Secret', NS, 'demo-store');
  return secret?.data?.password && Buffer.from(secret.data.password, 'base64').toString();
};
const external = { mode: 'External' as const, external: { urlSecretRef: { name: 'redis', key: 'url' } } };

describe('the managed store Secret', () => {
  it('is created once and read back on every later pass', async () => {
    const { cluster, reconciler, settle, clear } = setup();
    await settle();
    expect(password(cluster)).toBe(PASSWORD);
    clear();
    for (let i = 0; i < 3; i++) await reconciler.reconcile(KEY);
    expect(cluster.writes).toEqual([]);
    expect(password(cluster)).toBe(PASSWORD);
  });

  it('is read back, not replaced, when the cache has not seen it yet', async () => {
    const { cluster, reconciler } = setup();
    await reconciler.reconcile(KEY);
    cluster.hiddenFromCache.add(`Secret/${NS}/demo-store`);
    cluster.writes.length = 0;
    await reconciler.reconcile(KEY);
    expect(cluster.writes.slice(0, 2)).toEqual(['create Secret', 'get Secret']);
    expect(password(cluster)).toBe(PASSWORD);
  });

  it('is not taken over when it belongs to someone else', async () => {
    const { cluster, reconciler, condition } = setup();
    cluster.put<V1Secret>('Secret', {
      metadata: { name: 'demo-store', namespace: NS },
      data: { password: b64('x') },
    });
    cluster.hiddenFromCache.add(`Secret/${NS}/demo-store`);
    await reconciler.reconcile(KEY);
    expect(condition('Degraded')).toMatchObject({ status: 'True', reason: 'StoreSecretConflict' });
    expect(cluster.get('Deployment', NS, 'demo')).toBeUndefined();
  });
});

describe('an external store', () => {
  it('waits for its Secret without rolling anything out, then rolls out when it appears', async () => {
    const { cluster, reconciler, condition } = setup({ store: external });
    expect(await reconciler.reconcile(KEY)).toEqual({ requeueAfterMs: EXTERNAL_RECHECK_MS });
    expect(condition('Degraded')).toMatchObject({ status: 'True', reason: 'StoreSecretMissing' });
    expect(condition('StoreReady')).toMatchObject({ status: 'False', reason: 'StoreSecretMissing' });
    expect(cluster.writes).toEqual(['get Secret', 'status']);
    expect(cluster.events).toEqual([
      expect.objectContaining({ type: 'Warning', reason: 'StoreSecretMissing' }),
    ]);

    cluster.userSecrets.set(`${NS}/redis`, {
      metadata: { name: 'redis' },
      data: { url: b64('redis://:pw@r.internal:6380') },
    });
    expect(await reconciler.reconcile(KEY)).toEqual({});
    cluster.rollOut(NS, 'demo');
    await reconciler.reconcile(KEY);
    expect(condition('Ready')?.status).toBe('True');
    expect(condition('StoreReady')).toMatchObject({ status: 'True', reason: 'ExternalStoreConfigured' });
    expect(cluster.getRuntime(NS, 'demo').status?.store).toEqual({
      mode: 'External',
      topology: 'standalone',
      secretName: 'redis',
      endpoint: 'r.internal:6380',
    });
    expect(cluster.get('StatefulSet', NS, 'demo-store')).toBeUndefined();
    expect(cluster.events.map((e) => e.reason)).toContain('Recovered');
  });

  it('keeps the last good Deployment when the URL stops parsing, and rolls when it changes', async () => {
    const { cluster, reconciler, condition } = setup({ store: external });
    cluster.userSecrets.set(`${NS}/redis`, {
      metadata: { name: 'redis' },
      data: { url: b64('redis://r:6379') },
    });
    await reconciler.reconcile(KEY);
    const good = structuredClone(cluster.get<V1Deployment>('Deployment', NS, 'demo'));
    cluster.userSecrets.set(`${NS}/redis`, { metadata: { name: 'redis' }, data: { url: b64('not a url') } });
    await reconciler.reconcile(KEY);
    expect(condition('Degraded')?.reason).toBe('StoreURLInvalid');
    expect(cluster.get('Deployment', NS, 'demo')).toEqual(good);
    cluster.userSecrets.set(`${NS}/redis`, {
      metadata: { name: 'redis' },
      data: { url: b64('redis://r2:6379') },
    });
    await reconciler.reconcile(KEY);
    const hash = (d?: V1Deployment) =>
      d?.spec?.template.metadata?.annotations?.['nexus.dev/store-secret-hash'];
    expect(hash(cluster.get('Deployment', NS, 'demo'))).not.toBe(hash(good));
  });
});

describe('an external Sentinel store', () => {
  const sentinel = (extra: object = {}) => ({
    mode: 'External' as const,
    external: { urlSecretRef: { name: 'redis', key: 'url' }, topology: 'sentinel' as const, ...extra },
  });

  it("rolls out against the URL's Sentinel and the others, and publishes the first as its endpoint", async () => {
    const { cluster, reconciler, condition } = setup({
      store: sentinel({ sentinels: ['s2.internal:26379', 's3.internal:26379'], masterName: 'panels' }),
    });
    cluster.userSecrets.set(`${NS}/redis`, {
      metadata: { name: 'redis' },
      data: { url: b64('redis://:pw@s1.internal:26379') },
    });
    await reconciler.reconcile(KEY);
    cluster.rollOut(NS, 'demo');
    await reconciler.reconcile(KEY);
    expect(condition('Ready')?.status).toBe('True');
    expect(cluster.getRuntime(NS, 'demo').status?.store).toEqual({
      mode: 'External',
      topology: 'sentinel',
      secretName: 'redis',
      endpoint: 's1.internal:26379',
    });
    expect(cluster.get<V1ConfigMap>('ConfigMap', NS, 'demo-config')?.data).toMatchObject({
      STORE_TOPOLOGY: 'sentinel',
      STORE_SENTINELS: 's2.internal:26379,s3.internal:26379',
      STORE_SENTINEL_MASTER: 'panels',
      STORE_ACK_REPLICAS: '1',
    });
  });

  it('refuses Sentinels with another topology, and a Sentinel that is not host:port, when admission did not', async () => {
    const standalone = setup({
      store: { ...external, external: { ...external.external, sentinels: ['s2.internal:26379'] } },
    });
    await standalone.reconciler.reconcile(KEY);
    expect(standalone.condition('Degraded')).toMatchObject({ status: 'True', reason: 'InvalidSpec' });
    expect(standalone.condition('Degraded')?.message).toMatch(
      /store.external.sentinels is set but store.external.topology is standalone/,
    );
    const malformed = setup({ store: sentinel({ sentinels: ['s2.internal:26379', 's3.internal'] }) });
    await malformed.reconciler.reconcile(KEY);
    expect(malformed.condition('Degraded')?.message).toMatch(
      /store.external.sentinels\[1\] is invalid: "s3.internal" is not host:port/,
    );
    expect(malformed.cluster.get('Deployment', NS, 'demo')).toBeUndefined();
  });
});

describe('an embedded store', () => {
  it('runs one kernel without HPA or PDB, and warns once per generation about replicas', async () => {
    const { cluster, reconciler, settle, condition } = setup({ store: { mode: 'Embedded' }, replicas: 4 });
    await settle();
    expect(cluster.get<V1Deployment>('Deployment', NS, 'demo')?.spec?.replicas).toBe(1);
    expect(cluster.get('HorizontalPodAutoscaler', NS, 'demo')).toBeUndefined();
    expect(cluster.get('PodDisruptionBudget', NS, 'demo')).toBeUndefined();
    expect(cluster.get('PersistentVolumeClaim', NS, 'demo-panels')).toBeDefined();
    expect(condition('StoreReady')).toMatchObject({ status: 'True', reason: 'EmbeddedStore' });
    expect(condition('Ready')?.status).toBe('True');
    expect(cluster.events.filter((e) => e.reason === 'ReplicasIgnored')).toHaveLength(1);
    await reconciler.reconcile(KEY);
    expect(cluster.events.filter((e) => e.reason === 'ReplicasIgnored')).toHaveLength(1);
  });
});

describe('switching modes', () => {
  it('Managed → Embedded deletes the store and the HPA and PDB, and warns what is lost', async () => {
    const { cluster, reconciler, settle, clear } = setup();
    await settle();
    clear();
    cluster.editSpec(NS, 'demo', (r) => (r.spec = { store: { mode: 'Embedded' } }));
    await reconciler.reconcile(KEY);
    for (const kind of ['Secret', 'ConfigMap', 'Service', 'StatefulSet', 'NetworkPolicy']) {
      expect(cluster.get(kind, NS, 'demo-store')).toBeUndefined();
    }
    expect(cluster.get('HorizontalPodAutoscaler', NS, 'demo')).toBeUndefined();
    expect(cluster.events).toContainEqual(
      expect.objectContaining({
        type: 'Warning',
        reason: 'StoreModeChanged',
        message: expect.stringMatching(/not copied/),
      }),
    );
    const deleted = cluster.events.find((e) => e.reason === 'Deleted')?.message ?? '';
    expect(deleted).toContain('StatefulSet demo-store (the store is no longer Managed)');
    expect(deleted).toContain('PodDisruptionBudget demo (at most one kernel pod can run)');
  });

  it('Embedded → Managed starts the store first, then imports with one kernel, then deletes the volume and scales out', async () => {
    const { cluster, reconciler, settle, clear } = setup({ store: { mode: 'Embedded' } });
    await settle();
    clear();
    const embedded = structuredClone(cluster.get<V1Deployment>('Deployment', NS, 'demo'));
    cluster.editSpec(NS, 'demo', (r) => (r.spec = {}));

    // The store is created; the kernel keeps running as it is until the store is up.
    await reconciler.reconcile(KEY);
    expect(cluster.get('StatefulSet', NS, 'demo-store')).toBeDefined();
    expect(cluster.get('Deployment', NS, 'demo')).toEqual(embedded);
    expect(cluster.events).toContainEqual(
      expect.objectContaining({ type: 'Normal', reason: 'StoreModeChanged' }),
    );

    // Store up: one kernel with the store and the volume.
    cluster.startStore(NS, 'demo');
    await reconciler.reconcile(KEY);
    const importer = cluster.get<V1Deployment>('Deployment', NS, 'demo')!;
    expect(importer.spec?.replicas).toBe(1);
    expect(importer.spec?.strategy?.type).toBe('Recreate');
    expect(importer.spec?.template.metadata?.annotations?.['nexus.dev/panels-import']).toBe('demo-panels');
    expect(importer.spec?.template.spec?.containers[0]?.env?.map((e) => e.name)).toContain('STORE_URL');
    expect(cluster.get('PersistentVolumeClaim', NS, 'demo-panels')).toBeDefined();
    expect(cluster.get('HorizontalPodAutoscaler', NS, 'demo')).toBeUndefined();

    // The importing kernel is ready: its panels are in the store, the volume goes.
    cluster.rollOut(NS, 'demo');
    await reconciler.reconcile(KEY);
    expect(cluster.get('PersistentVolumeClaim', NS, 'demo-panels')).toBeUndefined();
    expect(cluster.events.map((e) => e.reason)).toContain('PanelsImported');
    expect(
      cluster.get<V1Deployment>('Deployment', NS, 'demo')?.spec?.template.metadata?.annotations,
    ).toHaveProperty(['nexus.dev/panels-import']);

    // With the volume gone, the fleet.
    await reconciler.reconcile(KEY);
    const fleet = cluster.get<V1Deployment>('Deployment', NS, 'demo')!;
    expect(fleet.spec?.strategy?.type).toBe('RollingUpdate');
    expect(fleet.spec?.template.spec?.volumes?.map((v) => v.name)).not.toContain('panels');
    expect(cluster.get('HorizontalPodAutoscaler', NS, 'demo')).toBeDefined();
  });

  it('does not delete an object that is already being deleted', async () => {
    const { cluster, reconciler, settle, clear } = setup({ store: { mode: 'Embedded' } });
    await settle();
    cluster.editSpec(NS, 'demo', (r) => (r.spec = {}));
    cluster.get<V1PersistentVolumeClaim>(
      'PersistentVolumeClaim',
      NS,
      'demo-panels',
    )!.metadata!.deletionTimestamp = new Date();
    clear();
    await reconciler.reconcile(KEY);
    expect(cluster.writes).not.toContain('delete PersistentVolumeClaim');
  });
});

describe('the managed store becoming unavailable', () => {
  it('records StoreLost and StoreRecovered, and Ready follows the store', async () => {
    const { cluster, reconciler, settle, condition } = setup();
    await settle();
    cluster.startStore(NS, 'demo', false);
    await reconciler.reconcile(KEY);
    expect(condition('StoreReady')).toMatchObject({ status: 'False', reason: 'StoreUnavailable' });
    expect(condition('Ready')).toMatchObject({ status: 'False', reason: 'StoreNotReady' });
    expect(cluster.events).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'StoreLost' }));
    cluster.startStore(NS, 'demo');
    await reconciler.reconcile(KEY);
    expect(condition('Ready')?.status).toBe('True');
    expect(cluster.events).toContainEqual(
      expect.objectContaining({ type: 'Normal', reason: 'StoreRecovered' }),
    );
  });

  it('refuses a store whose limit cannot hold maxmemory, before creating anything', async () => {
    const { cluster, reconciler, condition } = setup({
      store: { managed: { maxmemory: '1Gi', resources: { limits: { memory: '1Gi' } } } },
    });
    await reconciler.reconcile(KEY);
    expect(cluster.writes).toEqual(['status']);
    expect(condition('Degraded')?.reason).toBe('StoreMemoryBudgetExceeded');
    expect(condition('StoreReady')?.reason).toBe('StoreMemoryBudgetExceeded');
  });
});
