import type { V1ConfigMap, V1Deployment } from '@kubernetes/client-node';
import { KEY, NS, setup } from '../testing/reconciler-setup.js';

describe('Reconciler', () => {
  it('creates every child on the first pass and reports progress', async () => {
    const { cluster, reconciler, condition } = setup();
    await reconciler.reconcile(KEY);
    expect(cluster.writes).toEqual([
      'create Secret',
      'apply ConfigMap',
      'apply Service',
      'apply Deployment',
      'apply HorizontalPodAutoscaler',
      'apply PodDisruptionBudget',
      'apply NetworkPolicy',
      'apply ConfigMap',
      'apply Service',
      // The headless Service that names the store's pods.
      'apply Service',
      'apply StatefulSet',
      'apply NetworkPolicy',
      'status',
    ]);
    expect(cluster.events).toEqual([
      {
        type: 'Normal',
        reason: 'StoreCreated',
        message:
          'created the managed store: Secret demo-store, ConfigMap demo-store, Service demo-store, Service demo-store-pods, StatefulSet demo-store, NetworkPolicy demo-store',
      },
      {
        type: 'Normal',
        reason: 'Created',
        message:
          'created ConfigMap demo-config, Service demo, Deployment demo, HorizontalPodAutoscaler demo, PodDisruptionBudget demo, NetworkPolicy demo',
      },
    ]);
    const status = cluster.getRuntime(NS, 'demo').status!;
    expect(status.observedGeneration).toBe(1);
    // (1024 - 96 overhead - 128 cache - 64 panel cache) / 32 = 23
    expect(status.memoryBudget).toMatchObject({ maxInstances: 23, panelCacheMB: 64, fits: true });
    // 512Mi of maxmemory / 10.9Mi per panel at its bounds (state, history, 6 definitions, log
    // ring, idempotency records, the allocator's rounding).
    expect(status.memoryBudget?.store).toMatchObject({
      maxPanels: 47,
      maxPanelsDerived: true,
      perPanelBytes: 11_399_184,
      fits: true,
    });
    expect(status.store).toEqual({
      mode: 'Managed',
      endpoint: 'demo-store.team-a.svc:6379',
      secretName: 'demo-store',
      replicas: 1,
    });
    expect(cluster.get<V1ConfigMap>('ConfigMap', NS, 'demo-config')?.data?.MAX_INSTANCES).toBe('23');
    expect(condition('Ready')?.status).toBe('False');
    expect(condition('Progressing')?.status).toBe('True');
    expect(condition('StoreReady')).toMatchObject({ status: 'False', reason: 'StoreStarting' });
    expect(status.configHash).toMatch(/^[0-9a-f]{16}$/);
  });

  it('becomes Ready once the store and the pods are, then writes nothing while nothing changes', async () => {
    const { cluster, reconciler, settle, condition, clear } = setup();
    await settle();
    expect(condition('Ready')).toMatchObject({ status: 'True', reason: 'Available' });
    expect(condition('StoreReady')).toMatchObject({ status: 'True', reason: 'StoreAvailable' });
    expect(condition('Progressing')).toMatchObject({ status: 'False', reason: 'RolloutComplete' });
    clear();
    await reconciler.reconcile(KEY);
    await reconciler.reconcile(KEY);
    expect(cluster.writes).toEqual([]);
    expect(cluster.events).toEqual([]);
  });

  it('is not Ready while the kernels are but the store is not', async () => {
    const { cluster, reconciler, condition } = setup();
    await reconciler.reconcile(KEY);
    cluster.rollOut(NS, 'demo');
    await reconciler.reconcile(KEY);
    expect(condition('Ready')).toMatchObject({ status: 'False', reason: 'StoreNotReady' });
  });

  it('rolls the pods when the tuning changes, and only the objects that changed are written', async () => {
    const { cluster, reconciler, settle, clear } = setup();
    await settle();
    const before = cluster.getRuntime(NS, 'demo').status!.configHash;
    const generation = cluster.get<V1Deployment>('Deployment', NS, 'demo')!.metadata!.generation!;
    clear();
    cluster.editSpec(NS, 'demo', (r) => (r.spec = { runtime: { memoryLimitMB: 64 } }));
    await reconciler.reconcile(KEY);
    expect(cluster.writes).toEqual(['apply ConfigMap', 'apply Deployment', 'status']);
    const after = cluster.getRuntime(NS, 'demo').status!.configHash;
    expect(after).not.toBe(before);
    const deployment = cluster.get<V1Deployment>('Deployment', NS, 'demo')!;
    expect(deployment.metadata?.generation).toBe(generation + 1);
    expect(deployment.spec?.template.metadata?.annotations?.['nexus.dev/config-hash']).toBe(after);
    expect(cluster.events.find((e) => e.reason === 'RollingOut')?.message).toContain(`${before} → ${after}`);
  });

  it('refuses a spec over the memory budget, keeps the last good objects, and recovers when fixed', async () => {
    const { cluster, reconciler, settle, condition, clear } = setup();
    await settle();
    const goodConfig = structuredClone(cluster.get<V1ConfigMap>('ConfigMap', NS, 'demo-config'));
    const goodHash = cluster.getRuntime(NS, 'demo').status!.configHash;
    clear();

    cluster.editSpec(NS, 'demo', (r) => (r.spec = { runtime: { maxInstances: 64, memoryLimitMB: 64 } }));
    await reconciler.reconcile(KEY);
    expect(cluster.writes).toEqual(['status']);
    expect(cluster.get('ConfigMap', NS, 'demo-config')).toEqual(goodConfig);
    const degraded = condition('Degraded');
    expect(degraded).toMatchObject({ status: 'True', reason: 'MemoryBudgetExceeded', observedGeneration: 2 });
    expect(degraded?.message).toContain('runtime.maxInstances 64 × runtime.memoryLimitMB 64Mi');
    // The numbers that fit: the largest pool, the largest sandbox, the smallest limit.
    expect(degraded?.message).toContain('Fits: runtime.maxInstances 11 or less');
    expect(degraded?.message).toContain('resources.limits.memory 4384Mi or more');
    expect(degraded?.message).toContain('64Mi panel cache');
    expect(degraded?.message).toContain('1024Mi');
    expect(condition('Ready')?.status).toBe('True'); // the old pods still serve
    expect(cluster.getRuntime(NS, 'demo').status?.configHash).toBe(goodHash);
    expect(cluster.events).toEqual([
      expect.objectContaining({ type: 'Warning', reason: 'MemoryBudgetExceeded' }),
    ]);

    // Staying wrong does not repeat the warning.
    await reconciler.reconcile(KEY);
    expect(cluster.events).toHaveLength(1);

    cluster.editSpec(NS, 'demo', (r) => (r.spec = { runtime: { maxInstances: 11, memoryLimitMB: 64 } }));
    await reconciler.reconcile(KEY);
    expect(condition('Degraded')).toMatchObject({ status: 'False', reason: 'AsExpected' });
    expect(cluster.get<V1ConfigMap>('ConfigMap', NS, 'demo-config')?.data?.MAX_INSTANCES).toBe('11');
    expect(cluster.events.map((e) => e.reason)).toContain('Recovered');
  });

  it('refuses an allowedDomains entry the kernel would refuse, keeping the last good objects', async () => {
    const { cluster, reconciler, settle, condition, clear } = setup();
    await settle();
    const goodConfig = structuredClone(cluster.get<V1ConfigMap>('ConfigMap', NS, 'demo-config'));
    clear();

    cluster.editSpec(
      NS,
      'demo',
      (r) => (r.spec = { server: { extensions: { http: { allowedDomains: ['10.0.0.1/8'] } } } }),
    );
    await reconciler.reconcile(KEY);
    expect(cluster.writes).toEqual(['status']);
    expect(cluster.get('ConfigMap', NS, 'demo-config')).toEqual(goodConfig);
    expect(condition('Degraded')).toMatchObject({ status: 'True', reason: 'InvalidSpec' });
    expect(condition('Degraded')?.message).toContain('"10.0.0.1/8" has bits set beyond its prefix length');
  });

  it('deletes the HPA when autoscaling is turned off and takes over the replica count', async () => {
    const { cluster, reconciler, settle } = setup();
    await settle();
    cluster.editSpec(NS, 'demo', (r) => (r.spec = { autoscaling: { enabled: false }, replicas: 3 }));
    await reconciler.reconcile(KEY);
    expect(cluster.get('HorizontalPodAutoscaler', NS, 'demo')).toBeUndefined();
    expect(cluster.get<V1Deployment>('Deployment', NS, 'demo')?.spec?.replicas).toBe(3);
    expect(cluster.get('PodDisruptionBudget', NS, 'demo')).toBeDefined();
    expect(cluster.events.find((e) => e.reason === 'Deleted')?.message).toBe(
      'deleted HorizontalPodAutoscaler demo (autoscaling is off, the runtime is suspended or it runs one kernel)',
    );
  });

  it('scales to zero and drops the HPA and PDB when suspended', async () => {
    const { cluster, reconciler, settle, condition } = setup();
    await settle();
    cluster.editSpec(NS, 'demo', (r) => (r.spec = { suspend: true }));
    await reconciler.reconcile(KEY);
    cluster.rollOut(NS, 'demo');
    await reconciler.reconcile(KEY);
    expect(cluster.get<V1Deployment>('Deployment', NS, 'demo')?.spec?.replicas).toBe(0);
    expect(cluster.get('HorizontalPodAutoscaler', NS, 'demo')).toBeUndefined();
    expect(cluster.get('PodDisruptionBudget', NS, 'demo')).toBeUndefined();
    expect(cluster.get('Service', NS, 'demo')).toBeDefined();
    expect(condition('Ready')).toMatchObject({ status: 'False', reason: 'Suspended' });
  });

  it('restores a deleted Deployment and undoes an outside edit', async () => {
    const { cluster, reconciler, settle } = setup();
    await settle();
    cluster.remove('Deployment', NS, 'demo');
    await reconciler.reconcile(KEY);
    expect(cluster.get('Deployment', NS, 'demo')).toBeDefined();
    expect(cluster.events.at(-1)).toMatchObject({
      reason: 'Restored',
      message: 'Deployment demo was missing and has been recreated',
    });

    cluster.get<V1ConfigMap>('ConfigMap', NS, 'demo-config')!.data!.MAX_INSTANCES = '999';
    await reconciler.reconcile(KEY);
    expect(cluster.get<V1ConfigMap>('ConfigMap', NS, 'demo-config')?.data?.MAX_INSTANCES).toBe('23');
    expect(cluster.events.at(-1)?.message).toBe(
      'ConfigMap demo-config was changed outside the operator and has been restored',
    );
  });

  it('does nothing for a runtime that is gone or being deleted', async () => {
    const { cluster, reconciler } = setup();
    await reconciler.reconcile(`${NS}/other`);
    cluster.getRuntime(NS, 'demo').metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
    await reconciler.reconcile(KEY);
    expect(cluster.writes).toEqual([]);
  });

  it('reports a failed apply as Degraded and throws so the key is retried', async () => {
    const { cluster, reconciler, condition } = setup({ store: { mode: 'Embedded' } });
    cluster.failApply = new Error('connection refused');
    await expect(reconciler.reconcile(KEY)).rejects.toThrow('connection refused');
    expect(condition('Degraded')).toMatchObject({ status: 'True', reason: 'ApplyFailed' });
    expect(condition('Degraded')?.message).toContain('connection refused');
  });

  it('reports a failed Secret create the same way', async () => {
    const { cluster, reconciler, condition } = setup();
    cluster.failApply = new Error('etcd timeout');
    await expect(reconciler.reconcile(KEY)).rejects.toThrow('etcd timeout');
    expect(condition('Degraded')).toMatchObject({ status: 'True', reason: 'ApplyFailed' });
  });
});

describe('Reconciler, with a cache that lags behind its own status writes', () => {
  it('neither writes the same status again nor repeats its events', async () => {
    const { cluster, reconciler, clear } = setup({ store: { mode: 'Embedded' }, replicas: 3 });
    // The cache keeps showing the runtime without a status, as right after the first write.
    const { runtimes } = cluster;
    const original = structuredClone(cluster.getRuntime(NS, 'demo'));
    await reconciler.reconcile(KEY);
    expect(cluster.events.filter((e) => e.reason === 'ReplicasIgnored')).toHaveLength(1);
    const written = cluster.getRuntime(NS, 'demo').status;
    runtimes.set(KEY, structuredClone(original));
    clear();
    await reconciler.reconcile(KEY);
    expect(cluster.events).toEqual([]);
    expect(cluster.writes).not.toContain('status');
    // Once the cache shows the write, it is the cache again that counts.
    runtimes.set(KEY, { ...structuredClone(original), status: written! });
    await reconciler.reconcile(KEY);
    expect(cluster.events).toEqual([]);
  });
});
