import { spec } from '../testing/fixtures.js';
import { budgetRefusal, evaluateBudget } from './budget.js';

const FOOTPRINT = { overheadMB: 96, idleWorkingSetMB: 60 };

describe('evaluateBudget', () => {
  it('derives maxInstances from the defaults: (1024 - 96 - 128 - 64) / 32 = 23', () => {
    const outcome = evaluateBudget(spec(), FOOTPRINT);
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
      idleWorkingSetMB: 60,
      fits: true,
    });
    expect(outcome.warning).toBeUndefined();
  });

  it('does not charge a disk cache to the memory limit', () => {
    const outcome = evaluateBudget(spec({ cache: { medium: 'Disk', sizeLimit: '10Gi' } }), FOOTPRINT);
    expect(outcome.ok && outcome.maxInstances).toBe(Math.floor((1024 - 96 - 64) / 32));
  });

  it('caps the derived pool at the schema maximum', () => {
    const outcome = evaluateBudget(
      spec({ resources: { limits: { memory: '64Gi' } }, runtime: { memoryLimitMB: 8 } }),
      FOOTPRINT,
    );
    expect(outcome.ok && outcome.maxInstances).toBe(1000);
  });

  it('accepts a given maxInstances that fits exactly', () => {
    const outcome = evaluateBudget(spec({ runtime: { maxInstances: 23 } }), FOOTPRINT);
    expect(outcome.ok).toBe(true);
    expect(outcome.budget?.maxInstancesDerived).toBe(false);
  });

  it('rejects a given maxInstances one over, with what it needs, the limit and what fits', () => {
    const outcome = evaluateBudget(spec({ runtime: { maxInstances: 24 } }), FOOTPRINT);
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.failure.reason).toBe('MemoryBudgetExceeded');
    expect(outcome.failure.message).toBe(
      'memory budget exceeded: runtime.maxInstances 24 × runtime.memoryLimitMB 32Mi + 96Mi kernel overhead ' +
        '+ 128Mi in-memory cache + 64Mi panel cache = 1056Mi, above resources.limits.memory 1024Mi. ' +
        'Fits: runtime.maxInstances 23 or less, or runtime.memoryLimitMB 30 or less with runtime.maxInstances 24, ' +
        'or resources.limits.memory 1056Mi or more, or the cache on Disk (cache.medium)',
    );
    expect(outcome.budget).toMatchObject({ fits: false, requiredMB: 1056, headroomMB: -32 });
  });

  it('rejects a limit that cannot hold minInstances when maxInstances is derived', () => {
    const outcome = evaluateBudget(
      spec({
        resources: { requests: { memory: '128Mi' }, limits: { memory: '256Mi' } },
        runtime: { memoryLimitMB: 64, minInstances: 2 },
      }),
      FOOTPRINT,
    );
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.failure.reason).toBe('MemoryBudgetExceeded');
    // 256 − 96 − 128 − 64 < 0: nothing but a larger limit (or a disk cache) fits.
    expect(outcome.failure.message).toBe(
      'memory budget exceeded: runtime.minInstances (or 1) 2 × runtime.memoryLimitMB 64Mi + 96Mi kernel overhead ' +
        '+ 128Mi in-memory cache + 64Mi panel cache = 416Mi, above resources.limits.memory 256Mi. ' +
        'Fits: resources.limits.memory 416Mi or more, or the cache on Disk (cache.medium)',
    );
  });

  it('names the largest memoryLimitMB when one sandbox is too big (the issue’s 1024 MB)', () => {
    const outcome = evaluateBudget(spec({ runtime: { memoryLimitMB: 1024 } }), {
      overheadMB: 157,
      idleWorkingSetMB: 88,
    });
    expect(!outcome.ok && outcome.failure.message).toContain(
      '= 1373Mi, above resources.limits.memory 1024Mi. Fits: ' +
        'runtime.memoryLimitMB 675 or less with runtime.minInstances (or 1) 1, or resources.limits.memory 1373Mi or more',
    );
  });

  it('writes the refusal without the cache terms when there is no in-memory cache', () => {
    expect(
      budgetRefusal({
        instances: 8,
        instancesGiven: true,
        instanceMB: 128,
        overheadMB: 157,
        cacheMB: 0,
        panelCacheMB: 0,
        limitMB: 512,
      }),
    ).toBe(
      'memory budget exceeded: runtime.maxInstances 8 × runtime.memoryLimitMB 128Mi + 157Mi kernel overhead = 1181Mi, ' +
        'above resources.limits.memory 512Mi. Fits: runtime.maxInstances 2 or less, ' +
        'or runtime.memoryLimitMB 44 or less with runtime.maxInstances 8, or resources.limits.memory 1181Mi or more',
    );
  });

  it('treats unparseable quantities and inverted requests as invalid specs', () => {
    const bad = evaluateBudget(spec({ resources: { limits: { memory: 'lots' } } }), FOOTPRINT);
    expect(!bad.ok && bad.failure).toEqual({
      reason: 'InvalidSpec',
      message: 'resources.limits.memory "lots" is not a memory quantity',
    });
    const inverted = evaluateBudget(spec({ resources: { requests: { memory: '2Gi' } } }), FOOTPRINT);
    expect(!inverted.ok && inverted.failure.reason).toBe('InvalidSpec');
    const minAboveMax = evaluateBudget(spec({ runtime: { minInstances: 5, maxInstances: 2 } }), FOOTPRINT);
    expect(!minAboveMax.ok && minAboveMax.failure.message).toContain(
      'minInstances 5 is above runtime.maxInstances 2',
    );
  });

  it('refuses caches larger than the kernel accepts (an older schema admitted them)', () => {
    const panels = evaluateBudget(spec({ runtime: { panelCacheSize: '17Gi' } }), FOOTPRINT);
    expect(!panels.ok && panels.failure).toEqual({
      reason: 'InvalidSpec',
      message: 'runtime.panelCacheSize 17Gi is above 16Gi',
    });
    const cache = evaluateBudget(spec({ cache: { sizeLimit: '2Pi', medium: 'Disk' } }), FOOTPRINT);
    expect(!cache.ok && cache.failure).toEqual({
      reason: 'InvalidSpec',
      message: 'cache.sizeLimit 2Pi is above 1Pi',
    });
  });

  it('publishes the HPA scale-out point as request × target%', () => {
    const outcome = evaluateBudget(
      spec({
        resources: { requests: { memory: '1Gi' }, limits: { memory: '2Gi' } },
        autoscaling: { targetMemoryUtilizationPercentage: 75 },
      }),
      FOOTPRINT,
    );
    expect(outcome.budget?.hpaScaleOutMB).toBe(768);
  });

  it('warns when the idle working set alone reaches the scale-out point', () => {
    const outcome = evaluateBudget(spec({ resources: { requests: { memory: '64Mi' } } }), FOOTPRINT);
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.budget.hpaScaleOutMB).toBe(51);
    expect(outcome.warning?.reason).toBe('ScaleOutBelowOverhead');
    expect(outcome.warning?.message).toBe(
      "the HPA scales out at 51Mi of working set (80% of the 64Mi memory request) but an idle kernel's " +
        'working set is already ~60Mi: the fleet would sit at maxReplicas. Raise resources.requests.memory ' +
        'to at least 77Mi, or the target percentage',
    );
    // The suggested request is the smallest that clears the idle working set.
    const raised = evaluateBudget(spec({ resources: { requests: { memory: '77Mi' } } }), FOOTPRINT);
    expect(raised.ok && raised.warning).toBeUndefined();
    const short = evaluateBudget(spec({ resources: { requests: { memory: '76Mi' } } }), FOOTPRINT);
    expect(short.ok && short.warning?.reason).toBe('ScaleOutBelowOverhead');
  });

  it('compares like with like: a request whose scale-out point is below the resident overhead but above the working set is fine', () => {
    // The runtime: 128Mi at 80% scales out at 102Mi; RSS 157Mi, working set ~88Mi.
    const outcome = evaluateBudget(spec({ resources: { requests: { memory: '128Mi' } } }), {
      overheadMB: 157,
      idleWorkingSetMB: 88,
    });
    expect(outcome.ok).toBe(true);
    expect(outcome.budget).toMatchObject({ hpaScaleOutMB: 102, idleWorkingSetMB: 88, overheadMB: 157 });
    expect(outcome.ok && outcome.warning).toBeUndefined();
  });

  it('has no scale-out point without autoscaling', () => {
    const outcome = evaluateBudget(
      spec({ autoscaling: { enabled: false }, resources: { requests: { memory: '100Mi' } } }),
      FOOTPRINT,
    );
    expect(outcome.budget?.hpaScaleOutMB).toBeUndefined();
    expect(outcome.ok && outcome.warning).toBeUndefined();
  });
});
