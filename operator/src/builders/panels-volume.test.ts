import { plan } from '../testing/fixtures.js';
import { buildPanelsVolume } from './panels-volume.js';
import { shutdownGraceMs, terminationGracePeriodSeconds } from './grace.js';

describe('the panels volume', () => {
  it('is a ReadWriteOnce claim owned by the runtime', () => {
    const claim = buildPanelsVolume(plan({ store: { mode: 'Embedded' } }));
    expect(claim.metadata?.name).toBe('demo-panels');
    expect(claim.metadata?.ownerReferences).toHaveLength(1);
    expect(claim.spec).toEqual({
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: '1Gi' } },
    });
  });

  it('has no owner when it is to be kept, and takes its size and class from the spec', () => {
    const claim = buildPanelsVolume(
      plan({
        store: {
          mode: 'Embedded',
          embedded: { volume: { retainOnDelete: true, size: '3Gi', storageClassName: 'fast' } },
        },
      }),
    );
    expect(claim.metadata).not.toHaveProperty('ownerReferences');
    expect(claim.spec).toMatchObject({
      storageClassName: 'fast',
      resources: { requests: { storage: '3Gi' } },
    });
  });
});

describe('grace', () => {
  it('lets executions finish and sockets drain before the kubelet kills the kernel', () => {
    const { spec } = plan({ runtime: { timeoutMs: 2000, executionDeadlineMs: 20_250 } });
    expect(shutdownGraceMs(spec)).toBe(25_250);
    expect(terminationGracePeriodSeconds(spec)).toBe(36);
  });
});
