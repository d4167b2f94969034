import { context, useRuntime } from './support.js';

describe('getStats', () => {
  const runtime = useRuntime({ maxInstances: 3 });

  it('counts executions by outcome', async () => {
    const before = runtime().getStats();
    await runtime().executeHandler('return 1', context());
    await runtime().executeHandler('throw new Error("x")', context());
    const parked = await runtime().executeHandler(
      "return await $ext.kv.get('k')",
      context({ capabilities: ['ext:kv'], extensionRegistry: { kv: ['get'] } }),
    );
    const during = runtime().getStats();
    expect(during.suspendedExecutions - before.suspendedExecutions).toBe(1);
    expect(during.suspendedInstances).toBe(1);
    await runtime().resumeHandler(parked.suspension!.suspensionId, { success: true, value: 1 });

    const after = runtime().getStats();
    expect(after.successfulExecutions - before.successfulExecutions).toBe(2);
    expect(after.failedExecutions - before.failedExecutions).toBe(1);
    expect(after.totalExecutions - before.totalExecutions).toBe(3);
    expect(after.suspendedInstances).toBe(0);
    expect(after.activeInstances).toBe(0);
    expect(after.maxInstances).toBe(3);
    expect(after.availableInstances).toBeLessThanOrEqual(3);
    expect(after.averageDurationUs).toBeGreaterThan(0);
    expect(after.memoryInUseBytes).toBeGreaterThanOrEqual(0);
  });

  it('tracks bytecode cache hits and misses', async () => {
    const code = `return ${Math.random()}`;
    const before = runtime().getStats();
    await runtime().executeHandler(code, context());
    await runtime().executeHandler(code, context());
    await runtime().executeHandler(code, context());
    const after = runtime().getStats();
    expect(after.cacheMisses - before.cacheMisses).toBe(1);
    expect(after.cacheHits - before.cacheHits).toBe(2);
    expect(after.cacheHitRate).toBeCloseTo(after.cacheHits / (after.cacheHits + after.cacheMisses), 5);
  });
});

describe('getMetrics', () => {
  const runtime = useRuntime({ maxInstances: 2 });

  it('returns Prometheus text with nexus_bridge_ metrics that move with executions', async () => {
    await runtime().executeHandler('return 1', context());
    const text = runtime().getMetrics();
    const samples = text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    expect(samples.length).toBeGreaterThan(0);
    for (const line of samples) {
      // name{labels} value — the exposition format's sample line
      expect(line).toMatch(/^nexus_bridge_[a-z_]+(\{[^}]*\})? -?[0-9.e+-]+|NaN|[+-]Inf$/);
    }
    expect(text).toMatch(/^# TYPE nexus_bridge_\w+ (counter|gauge|histogram|summary)$/m);
    expect(text).toMatch(/^# HELP nexus_bridge_\w+ .+$/m);

    const total = (metrics: string): number =>
      metrics
        .split('\n')
        .filter((l) => /^nexus_bridge_executions_total/.test(l))
        .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
    const before = total(text);
    await runtime().executeHandler('return 2', context());
    expect(total(runtime().getMetrics())).toBe(before + 1);
  });
});
