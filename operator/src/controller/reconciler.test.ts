import { pino } from 'pino';
import type { V1ConfigMap, V1Deployment } from '@kubernetes/client-node';
import { findCondition } from '../api/conditions.js';
import { FakeCluster } from '../testing/fake-cluster.js';
import { IMAGE, runtime } from '../testing/fixtures.js';
import { Reconciler } from './reconciler.js';

const NS = 'team-a';
const KEY = `${NS}/demo`;

function setup(spec = {}) {
  const cluster = new FakeCluster();
  cluster.putRuntime(runtime(spec));
  const reconciler = new Reconciler({
    cache: cluster,
    writer: cluster,
    events: cluster,
    log: pino({ level: 'silent' }),
    defaultImage: IMAGE,
    overheadMB: 96,
    now: () => new Date('2026-01-01T00:00:00Z'),
  });
  const settle = async () => {
    await reconciler.reconcile(KEY);
    cluster.rollOut(NS, 'demo');
    await reconciler.reconcile(KEY);
  };
  return { cluster, reconciler, settle };
}

const condition = (cluster: FakeCluster, type: 'Ready' | 'Progressing' | 'Degraded') =>
  findCondition(cluster.getRuntime(NS, 'demo').status?.conditions, type);

describe('Reconciler', () => {
  it('creates every child on the first pass and reports progress', async () => {
    const { cluster, reconciler } = setup();
    await reconciler.reconcile(KEY);
    expect(cluster.writes).toEqual([
      'apply ConfigMap',
      'apply Service',
      'apply Deployment',
      'apply HorizontalPodAutoscaler',
      'apply PodDisruptionBudget',
      'status',
    ]);
    expect(cluster.events).toEqual([
      {
        type: 'Normal',
        reason: 'Created',
        message:
          'created ConfigMap demo-config, Service demo, Deployment demo, HorizontalPodAutoscaler demo, PodDisruptionBudget demo',
      },
    ]);
    const status = cluster.getRuntime(NS, 'demo').status!;
    expect(status.observedGeneration).toBe(1);
    expect(status.memoryBudget).toMatchObject({ maxInstances: 25, fits: true });
    expect(cluster.get<V1ConfigMap>('ConfigMap', NS, 'demo-config')?.data?.MAX_INSTANCES).toBe('25');
    expect(condition(cluster, 'Ready')?.status).toBe('False');
    expect(condition(cluster, 'Progressing')?.status).toBe('True');
    expect(status.configHash).toMatch(/^[0-9a-f]{16}$/);
  });

  it('becomes Ready once the pods are available, then writes nothing while nothing changes', async () => {
    const { cluster, reconciler, settle } = setup();
    await settle();
    expect(condition(cluster, 'Ready')).toMatchObject({ status: 'True', reason: 'Available' });
    expect(condition(cluster, 'Progressing')).toMatchObject({ status: 'False', reason: 'RolloutComplete' });
    cluster.writes.length = 0;
    cluster.events.length = 0;
    await reconciler.reconcile(KEY);
    await reconciler.reconcile(KEY);
    expect(cluster.writes).toEqual([]);
    expect(cluster.events).toEqual([]);
  });

  it('rolls the pods when the tuning changes, and only the objects that changed are written', async () => {
    const { cluster, reconciler, settle } = setup();
    await settle();
    const before = cluster.getRuntime(NS, 'demo').status!.configHash;
    const generation = cluster.get<V1Deployment>('Deployment', NS, 'demo')!.metadata!.generation!;
    cluster.writes.length = 0;
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
    const { cluster, reconciler, settle } = setup();
    await settle();
    const goodConfig = structuredClone(cluster.get<V1ConfigMap>('ConfigMap', NS, 'demo-config'));
    const goodHash = cluster.getRuntime(NS, 'demo').status!.configHash;
    cluster.writes.length = 0;
    cluster.events.length = 0;

    cluster.editSpec(NS, 'demo', (r) => (r.spec = { runtime: { maxInstances: 64, memoryLimitMB: 64 } }));
    await reconciler.reconcile(KEY);
    expect(cluster.writes).toEqual(['status']);
    expect(cluster.get('ConfigMap', NS, 'demo-config')).toEqual(goodConfig);
    const degraded = condition(cluster, 'Degraded');
    expect(degraded).toMatchObject({ status: 'True', reason: 'MemoryBudgetExceeded', observedGeneration: 2 });
    expect(degraded?.message).toContain('runtime.maxInstances 64 × 64Mi');
    expect(degraded?.message).toContain('1024Mi');
    expect(condition(cluster, 'Ready')?.status).toBe('True'); // the old pods still serve
    expect(cluster.getRuntime(NS, 'demo').status?.configHash).toBe(goodHash);
    expect(cluster.events).toEqual([
      expect.objectContaining({ type: 'Warning', reason: 'MemoryBudgetExceeded' }),
    ]);

    // Staying wrong does not repeat the warning.
    await reconciler.reconcile(KEY);
    expect(cluster.events).toHaveLength(1);

    cluster.editSpec(NS, 'demo', (r) => (r.spec = { runtime: { maxInstances: 12, memoryLimitMB: 64 } }));
    await reconciler.reconcile(KEY);
    expect(condition(cluster, 'Degraded')).toMatchObject({ status: 'False', reason: 'AsExpected' });
    expect(cluster.get<V1ConfigMap>('ConfigMap', NS, 'demo-config')?.data?.MAX_INSTANCES).toBe('12');
    expect(cluster.events.map((e) => e.reason)).toContain('Recovered');
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
      'deleted HorizontalPodAutoscaler demo (autoscaling is off or the runtime is suspended)',
    );
  });

  it('scales to zero and drops the HPA and PDB when suspended', async () => {
    const { cluster, reconciler, settle } = setup();
    await settle();
    cluster.editSpec(NS, 'demo', (r) => (r.spec = { suspend: true }));
    await reconciler.reconcile(KEY);
    cluster.rollOut(NS, 'demo');
    await reconciler.reconcile(KEY);
    expect(cluster.get<V1Deployment>('Deployment', NS, 'demo')?.spec?.replicas).toBe(0);
    expect(cluster.get('HorizontalPodAutoscaler', NS, 'demo')).toBeUndefined();
    expect(cluster.get('PodDisruptionBudget', NS, 'demo')).toBeUndefined();
    expect(cluster.get('Service', NS, 'demo')).toBeDefined();
    expect(condition(cluster, 'Ready')).toMatchObject({ status: 'False', reason: 'Suspended' });
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
    expect(cluster.get<V1ConfigMap>('ConfigMap', NS, 'demo-config')?.data?.MAX_INSTANCES).toBe('25');
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
    const { cluster, reconciler } = setup();
    cluster.failApply = new Error('connection refused');
    await expect(reconciler.reconcile(KEY)).rejects.toThrow('connection refused');
    expect(condition(cluster, 'Degraded')).toMatchObject({ status: 'True', reason: 'ApplyFailed' });
    expect(condition(cluster, 'Degraded')?.message).toContain('connection refused');
  });
});
