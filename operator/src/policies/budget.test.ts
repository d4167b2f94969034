import { spec } from '../testing/fixtures.js';
import { evaluateBudget } from './budget.js';

describe('evaluateBudget', () => {
  it('derives maxInstances from the defaults: (1024 - 96 - 128 - 64) / 32 = 23', () => {
    const outcome = evaluateBudget(spec(), 96);
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.maxInstances).toBe(23);
    expect(outcome.budget).toEqual({
      limitMB: 1024,
      requestMB: 256,
      overheadMB: 96,
      cacheMB: 128,
      panelCacheMB: 64,
      instanceMB: 32,
      maxInstances: 23,
      maxInstancesDerived: true,
      requiredMB: 1024,
      headroomMB: 0,
      hpaScaleOutMB: 204,
      fits: true,
    });
    expect(outcome.warning).toBeUndefined();
  });

  it('does not charge a disk cache to the memory limit', () => {
    const outcome = evaluateBudget(spec({ cache: { medium: 'Disk', sizeLimit: '10Gi' } }), 96);
    expect(outcome.ok && outcome.maxInstances).toBe(Math.floor((1024 - 96 - 64) / 32));
  });

  it('caps the derived pool at the schema maximum', () => {
    const outcome = evaluateBudget(
      spec({ resources: { limits: { memory: '64Gi' } }, runtime: { memoryLimitMB: 8 } }),
      96,
    );
    expect(outcome.ok && outcome.maxInstances).toBe(1000);
  });

  it('accepts a given maxInstances that fits exactly', () => {
    const outcome = evaluateBudget(spec({ runtime: { maxInstances: 23 } }), 96);
    expect(outcome.ok).toBe(true);
    expect(outcome.budget?.maxInstancesDerived).toBe(false);
  });

  it('rejects a given maxInstances one over, naming every number', () => {
    const outcome = evaluateBudget(spec({ runtime: { maxInstances: 24 } }), 96);
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.failure.reason).toBe('MemoryBudgetExceeded');
    expect(outcome.failure.message).toContain(
      'runtime.maxInstances 24 × 32Mi + 96Mi kernel overhead + 128Mi in-memory cache + 64Mi panel cache = 1056Mi',
    );
    expect(outcome.failure.message).toContain('resources.limits.memory 1024Mi');
    expect(outcome.failure.message).toContain('at most 23 instances fit');
    expect(outcome.budget).toMatchObject({ fits: false, requiredMB: 1056, headroomMB: -32 });
  });

  it('rejects a limit that cannot hold minInstances when maxInstances is derived', () => {
    const outcome = evaluateBudget(
      spec({
        resources: { requests: { memory: '128Mi' }, limits: { memory: '256Mi' } },
        runtime: { memoryLimitMB: 64, minInstances: 2 },
      }),
      96,
    );
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.failure.reason).toBe('MemoryBudgetExceeded');
    expect(outcome.failure.message).toContain('runtime.minInstances 2');
    expect(outcome.failure.message).toContain('at most 0 instances fit');
  });

  it('treats unparseable quantities and inverted requests as invalid specs', () => {
    const bad = evaluateBudget(spec({ resources: { limits: { memory: 'lots' } } }), 96);
    expect(!bad.ok && bad.failure).toEqual({
      reason: 'InvalidSpec',
      message: 'resources.limits.memory "lots" is not a memory quantity',
    });
    const inverted = evaluateBudget(spec({ resources: { requests: { memory: '2Gi' } } }), 96);
    expect(!inverted.ok && inverted.failure.reason).toBe('InvalidSpec');
    const minAboveMax = evaluateBudget(spec({ runtime: { minInstances: 5, maxInstances: 2 } }), 96);
    expect(!minAboveMax.ok && minAboveMax.failure.message).toContain(
      'minInstances 5 is above runtime.maxInstances 2',
    );
  });

  it('publishes the HPA scale-out point as request × target%', () => {
    const outcome = evaluateBudget(
      spec({
        resources: { requests: { memory: '1Gi' }, limits: { memory: '2Gi' } },
        autoscaling: { targetMemoryUtilizationPercentage: 75 },
      }),
      96,
    );
    expect(outcome.budget?.hpaScaleOutMB).toBe(768);
  });

  it('warns when the idle overhead alone reaches the scale-out point', () => {
    const outcome = evaluateBudget(spec({ resources: { requests: { memory: '100Mi' } } }), 96);
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.budget.hpaScaleOutMB).toBe(80);
    expect(outcome.warning?.reason).toBe('ScaleOutBelowOverhead');
    expect(outcome.warning?.message).toContain('scales out at 80Mi (80% of the 100Mi memory request)');
    expect(outcome.warning?.message).toContain('96Mi');
  });

  it('has no scale-out point without autoscaling', () => {
    const outcome = evaluateBudget(
      spec({ autoscaling: { enabled: false }, resources: { requests: { memory: '100Mi' } } }),
      96,
    );
    expect(outcome.budget?.hpaScaleOutMB).toBeUndefined();
    expect(outcome.ok && outcome.warning).toBeUndefined();
  });
});
