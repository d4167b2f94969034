import { context, sleep, successValue, suspension, useRuntime } from './support.js';

const kv = { capabilities: ['ext:kv'], extensionRegistry: { kv: ['get'] } };

describe('more executions than maxInstances', () => {
  const runtime = useRuntime({ maxInstances: 2 });

  it('queues them and runs every one to completion', async () => {
    const before = runtime().getStats().totalExecutions;
    const runs = Array.from({ length: 24 }, (_, i) =>
      runtime().executeHandler(
        'let s = 0; for (let i = 0; i < 20000; i++) s += i % 7; return [$args.i, s]',
        context({ args: { i } }),
      ),
    );
    const results = await Promise.all(runs);
    expect(results.map((r) => (successValue(r) as number[])[0])).toEqual(
      Array.from({ length: 24 }, (_, i) => i),
    );
    const stats = runtime().getStats();
    expect(stats.totalExecutions - before).toBe(24);
    expect(stats.activeInstances).toBe(0);
  });

  it('counts parked handlers against the pool: a queued execution starts once one is resumed', async () => {
    const order: string[] = [];
    const a = suspension(await runtime().executeHandler("return await $ext.kv.get('a')", context(kv)));
    const b = suspension(await runtime().executeHandler("return await $ext.kv.get('b')", context(kv)));
    expect(runtime().getStats().suspendedInstances).toBe(2);

    const queued = runtime()
      .executeHandler('return "ran"', context())
      .then((result) => {
        order.push('queued finished');
        return result;
      });
    // Give the queued call ample opportunity to (wrongly) run while both instances are parked.
    await sleep(300);
    order.push('resuming');
    const resumedA = await runtime().resumeHandler(a.suspensionId, { success: true, value: 'A' });
    expect(successValue(resumedA)).toBe('A');
    expect(successValue(await queued)).toBe('ran');
    expect(order).toEqual(['resuming', 'queued finished']);

    expect(successValue(await runtime().resumeHandler(b.suspensionId, { success: true, value: 'B' }))).toBe(
      'B',
    );
  });

  it('keeps queued executions and resumes flowing without deadlock', async () => {
    // Six handlers through a pool of two: each is resumed as soon as it parks, which frees its
    // instance for the queued ones. A pool that never hands a resumed instance back would hang here.
    const values = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const parked = suspension(
          await runtime().executeHandler(`return 'v' + (await $ext.kv.get(${i}))`, context(kv)),
        );
        return successValue(await runtime().resumeHandler(parked.suspensionId, { success: true, value: i }));
      }),
    );
    expect(values).toEqual(['v0', 'v1', 'v2', 'v3', 'v4', 'v5']);
    expect(runtime().getStats().suspendedInstances).toBe(0);
  });
});
