import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { ConditionDecision } from '../api/conditions.js';
import { podProblems } from './pods.js';
import { decideConditions } from './readiness.js';

const HASH = 'nexus.dev/config-hash';

function withHash(d: V1Deployment, hash: string): V1Deployment {
  d.spec!.template = { metadata: { annotations: { [HASH]: hash } } };
  return d;
}

function kernelPod(name: string, hash: string, ready: boolean, extra: Partial<V1Pod['status']> = {}): V1Pod {
  return {
    metadata: {
      name,
      labels: { 'app.kubernetes.io/name': 'workspace-kernel', 'app.kubernetes.io/instance': 'demo' },
      annotations: { [HASH]: hash },
    },
    status: {
      phase: ready ? 'Running' : 'Pending',
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
      ...extra,
    },
  };
}

function deployment(
  desired: number,
  status: { replicas?: number; updated?: number; ready?: number; available?: number; observed?: number },
  generation = 2,
): V1Deployment {
  return {
    metadata: { generation },
    spec: { replicas: desired, selector: {}, template: {} },
    status: {
      replicas: status.replicas ?? 0,
      updatedReplicas: status.updated ?? 0,
      readyReplicas: status.ready ?? 0,
      availableReplicas: status.available ?? 0,
      observedGeneration: status.observed ?? generation,
    },
  };
}

const storeUp: ConditionDecision = {
  type: 'StoreReady',
  status: 'True',
  reason: 'StoreAvailable',
  message: 'up',
};

const byType = (input: Omit<Parameters<typeof decideConditions>[0], 'store'>, store = storeUp) =>
  Object.fromEntries(decideConditions({ ...input, store }).map((c) => [c.type, c]));

describe('decideConditions', () => {
  it('is Ready when every desired pod is updated and available', () => {
    const c = byType({
      suspend: false,
      deployment: deployment(2, { replicas: 2, updated: 2, ready: 2, available: 2 }),
    });
    expect(c.Ready).toMatchObject({
      status: 'True',
      reason: 'Available',
      message: '2/2 kernel pods available',
    });
    expect(c.Progressing).toMatchObject({ status: 'False', reason: 'RolloutComplete' });
    expect(c.Degraded).toMatchObject({ status: 'False', reason: 'AsExpected' });
  });

  it('is Progressing and not Ready while pods roll', () => {
    const c = byType({
      suspend: false,
      deployment: deployment(2, { replicas: 3, updated: 1, ready: 2, available: 2 }),
    });
    expect(c.Ready).toMatchObject({
      status: 'False',
      reason: 'RollingOut',
      message:
        'rolling out: 1/2 kernel pods updated, 2 available, 2 of the previous configuration still running',
    });
    expect(c.Progressing).toMatchObject({
      status: 'True',
      reason: 'RollingOut',
      message: '1/2 kernel pods updated, 2 available, 2 of the previous configuration still running',
    });
  });

  it('is not Ready while a new pod cannot be scheduled and the old one still serves (the 2-CPU node)', () => {
    // maxSurge 1: the new pod counts as updated, the old one as available — never both on one pod.
    const pods = [
      kernelPod('demo-new', 'h2', false, {
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: '0/1 nodes are available: 1 Insufficient cpu.',
          },
        ],
      }),
      kernelPod('demo-old', 'h1', true),
    ];
    const c = byType({
      suspend: false,
      deployment: withHash(deployment(1, { replicas: 2, updated: 1, ready: 1, available: 1 }), 'h2'),
      kernelPods: pods,
      problems: podProblems(pods),
    });
    const stuck = 'kernel pod demo-new cannot be scheduled: 0/1 nodes are available: 1 Insufficient cpu';
    expect(c.Ready).toMatchObject({
      status: 'False',
      reason: 'RollingOut',
      message: `rolling out: 1/1 kernel pods updated, 1 available, 2 of the previous configuration still running: ${stuck}`,
    });
    expect(c.Progressing).toMatchObject({ status: 'True', reason: 'RollingOut' });
    expect(c.Progressing?.message).toContain(`; blocked: ${stuck}`);
    expect(c.Degraded).toMatchObject({ status: 'True', reason: 'PodUnschedulable', message: stuck });
  });

  it('is not Ready while a ready pod still runs the previous configuration', () => {
    const c = byType({
      suspend: false,
      deployment: withHash(deployment(1, { replicas: 1, updated: 1, ready: 1, available: 1 }), 'h2'),
      kernelPods: [kernelPod('demo-a', 'h1', true)],
    });
    expect(c.Ready).toMatchObject({ status: 'False', reason: 'RollingOut' });
    expect(c.Ready?.message).toContain('1 of the previous configuration still running');
    // A terminating old pod no longer counts; the new one does.
    const done = byType({
      suspend: false,
      deployment: withHash(deployment(1, { replicas: 1, updated: 1, ready: 1, available: 1 }), 'h2'),
      kernelPods: [
        {
          ...kernelPod('demo-a', 'h1', true),
          metadata: { ...kernelPod('demo-a', 'h1', true).metadata, deletionTimestamp: new Date() },
        },
        kernelPod('demo-b', 'h2', true),
      ],
    });
    expect(done.Ready).toMatchObject({ status: 'True', reason: 'Available' });
  });

  it('is not Ready before the Deployment controller observed the new generation', () => {
    const c = byType({
      suspend: false,
      deployment: deployment(1, { replicas: 1, updated: 1, ready: 1, available: 1, observed: 1 }, 2),
    });
    expect(c.Ready).toMatchObject({
      status: 'False',
      reason: 'RollingOut',
      message: 'rolling out: the Deployment controller has not yet picked up the latest kernel Deployment',
    });
    expect(c.Progressing?.status).toBe('True');
  });

  it('reports a missing Deployment', () => {
    const c = byType({ suspend: false });
    expect(c.Ready).toMatchObject({ status: 'False', message: 'the kernel Deployment does not exist yet' });
    expect(c.Progressing).toMatchObject({ status: 'True', reason: 'RollingOut' });
  });

  it('reports a suspended runtime', () => {
    const c = byType({ suspend: true, deployment: deployment(0, {}) });
    expect(c.Ready).toMatchObject({ status: 'False', reason: 'Suspended' });
    expect(c.Progressing).toMatchObject({ status: 'False', reason: 'ScaledToZero' });
  });

  it('is Degraded with the failure, noting that the last good configuration keeps running', () => {
    const failure = { reason: 'MemoryBudgetExceeded', message: 'too big' } as const;
    const c = byType({
      suspend: false,
      failure,
      deployment: deployment(1, { replicas: 1, updated: 1, ready: 1, available: 1 }),
    });
    expect(c.Degraded).toMatchObject({
      status: 'True',
      reason: 'MemoryBudgetExceeded',
      message: 'too big; the last good configuration keeps running',
    });
    expect(c.Ready?.status).toBe('True');
    const none = byType({ suspend: false, failure });
    expect(none.Degraded?.message).toBe('too big');
    expect(none.Progressing).toMatchObject({ status: 'False', reason: 'MemoryBudgetExceeded' });
  });

  it('is Degraded when the rollout stalls, and on a warning', () => {
    const stalled = deployment(1, { replicas: 2, updated: 1, available: 0 });
    stalled.status!.conditions = [
      { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' },
    ];
    expect(byType({ suspend: false, deployment: stalled }).Degraded).toMatchObject({
      status: 'True',
      reason: 'RolloutStalled',
    });
    const warned = byType({ suspend: false, warning: { reason: 'ScaleOutBelowOverhead', message: 'w' } });
    expect(warned.Degraded).toMatchObject({ status: 'True', reason: 'ScaleOutBelowOverhead', message: 'w' });
  });

  it('is not Ready while the store is not, and passes StoreReady through', () => {
    const down: ConditionDecision = {
      type: 'StoreReady',
      status: 'False',
      reason: 'StoreStarting',
      message: 'StatefulSet demo-store is starting its pod',
    };
    const c = byType(
      { suspend: false, deployment: deployment(1, { replicas: 1, updated: 1, ready: 1, available: 1 }) },
      down,
    );
    expect(c.Ready).toMatchObject({
      status: 'False',
      reason: 'StoreNotReady',
      message:
        '1/1 kernel pods available, but the store is not ready: StatefulSet demo-store is starting its pod',
    });
    expect(c.StoreReady).toEqual(down);
    expect(c.Progressing).toMatchObject({ status: 'False', reason: 'RolloutComplete' });
  });
});
