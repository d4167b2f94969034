import type { V1StatefulSet } from '@kubernetes/client-node';
import type { Condition } from '../api/conditions.js';
import { decideStoreReady } from './store-readiness.js';

const sts = (ready: number, revisions: [string, string] = ['r1', 'r1'], observed = 1): V1StatefulSet => ({
  metadata: { name: 'demo-store', generation: 1 },
  status: {
    replicas: 1,
    readyReplicas: ready,
    observedGeneration: observed,
    currentRevision: revisions[0],
    updateRevision: revisions[1],
  },
});
const was = (status: 'True' | 'False', reason: string): Condition => ({
  type: 'StoreReady',
  status,
  reason: reason as Condition['reason'],
  message: '',
  lastTransitionTime: '2026-01-01T00:00:00Z',
});

describe('decideStoreReady', () => {
  it('is True when the managed store pod is ready at its revision', () => {
    expect(
      decideStoreReady({ mode: 'Managed', statefulSet: sts(1), endpoint: 'demo-store.ns.svc:6379' }),
    ).toEqual({
      type: 'StoreReady',
      status: 'True',
      reason: 'StoreAvailable',
      message: 'StatefulSet demo-store serves demo-store.ns.svc:6379',
    });
  });

  it('is starting before the first ready pod and while a new revision rolls, and lost otherwise', () => {
    expect(decideStoreReady({ mode: 'Managed' }).reason).toBe('StoreStarting');
    expect(decideStoreReady({ mode: 'Managed', statefulSet: sts(0) }).reason).toBe('StoreStarting');
    const rolling = decideStoreReady({
      mode: 'Managed',
      statefulSet: sts(0, ['r1', 'r2']),
      previous: was('True', 'StoreAvailable'),
    });
    expect(rolling).toMatchObject({
      status: 'False',
      reason: 'StoreStarting',
      message: 'StatefulSet demo-store is rolling out its pod',
    });
    const lost = decideStoreReady({
      mode: 'Managed',
      statefulSet: sts(0),
      previous: was('True', 'StoreAvailable'),
    });
    expect(lost).toMatchObject({ status: 'False', reason: 'StoreUnavailable' });
    expect(
      decideStoreReady({ mode: 'Managed', statefulSet: sts(0), previous: was('False', 'StoreUnavailable') })
        .reason,
    ).toBe('StoreUnavailable');
  });

  it('reports an external store as configured, and a failure as the reason', () => {
    expect(decideStoreReady({ mode: 'External', endpoint: 'r:6379' })).toMatchObject({
      status: 'True',
      reason: 'ExternalStoreConfigured',
    });
    expect(
      decideStoreReady({ mode: 'External', failure: { reason: 'StoreSecretMissing', message: 'no Secret' } }),
    ).toMatchObject({ status: 'False', reason: 'StoreSecretMissing', message: 'no Secret' });
  });

  it('waits for an embedded volume to bind, then says what it ignores', () => {
    expect(
      decideStoreReady({ mode: 'Embedded', volume: { metadata: { name: 'demo-panels' } } }),
    ).toMatchObject({
      status: 'False',
      reason: 'VolumePending',
    });
    const bound = decideStoreReady({
      mode: 'Embedded',
      volume: { metadata: { name: 'demo-panels' }, status: { phase: 'Bound' } },
    });
    expect(bound).toMatchObject({ status: 'True', reason: 'EmbeddedStore' });
    expect(bound.message).toContain('spec.replicas and spec.autoscaling are ignored');
  });
});
