import {
  context,
  failure,
  rejectionOf,
  sleep,
  successValue,
  suspension,
  useRuntime,
  mutations,
  events,
} from './support.js';

const kv = {
  capabilities: ['ext:kv', 'state:read:*', 'state:write:*', 'events:emit:*'],
  extensionRegistry: { kv: ['get', 'put'] },
};

describe('suspend and resume', () => {
  const runtime = useRuntime({ maxInstances: 4 });

  it('suspends several times and finishes with the resumed values', async () => {
    const code = `
      const a = await $ext.kv.get('a');
      const b = await $ext.kv.get('b');
      const c = await $ext.kv.put('sum', a + b);
      return { a, b, c };`;
    const first = suspension(await runtime().executeHandler(code, context(kv)));
    expect(first).toMatchObject({ extensionName: 'kv', method: 'get' });
    expect(JSON.parse(first.argsJson)).toEqual(['a']);

    const second = suspension(await runtime().resumeHandler(first.suspensionId, { success: true, value: 1 }));
    expect(second).toMatchObject({ method: 'get' });
    expect(JSON.parse(second.argsJson)).toEqual(['b']);
    expect(second.suspensionId).not.toBe(first.suspensionId);

    const third = suspension(await runtime().resumeHandler(second.suspensionId, { success: true, value: 2 }));
    expect(third).toMatchObject({ method: 'put' });
    expect(JSON.parse(third.argsJson)).toEqual(['sum', 3]);

    const done = await runtime().resumeHandler(third.suspensionId, { success: true, value: 'stored' });
    expect(successValue(done)).toEqual({ a: 1, b: 2, c: 'stored' });
  });

  it('suspends on concurrent extension calls one at a time, oldest first', async () => {
    const code = "return await Promise.all([$ext.kv.get('a'), $ext.kv.get('b')]);";
    const first = suspension(await runtime().executeHandler(code, context(kv)));
    expect(JSON.parse(first.argsJson)).toEqual(['a']);
    const second = suspension(
      await runtime().resumeHandler(first.suspensionId, { success: true, value: 'A' }),
    );
    expect(JSON.parse(second.argsJson)).toEqual(['b']);
    const done = await runtime().resumeHandler(second.suspensionId, { success: true, value: 'B' });
    expect(successValue(done)).toEqual(['A', 'B']);
  });

  it('keeps the heap intact across a suspension', async () => {
    const code = `
      const local = { seen: [] };
      local.seen.push(await $ext.kv.get('x'));
      local.seen.push(await $ext.kv.get('y'));
      return local;`;
    let parked = suspension(await runtime().executeHandler(code, context(kv)));
    parked = suspension(
      await runtime().resumeHandler(parked.suspensionId, { success: true, value: { deep: [1] } }),
    );
    const done = await runtime().resumeHandler(parked.suspensionId, { success: true, value: 'y' });
    expect(successValue(done)).toEqual({ seen: [{ deep: [1] }, 'y'] });
  });

  it('reports deltas: what happened before the suspension, then only what came after it', async () => {
    const code = `
      $state.phase = 'loading';
      $emit('started');
      const value = await $ext.kv.get('v');
      $state.phase = 'done';
      return [value, $state.phase, $state.count];`;
    const parkedResult = await runtime().executeHandler(
      code,
      context({ ...kv, stateSnapshot: { count: 4 } }),
    );
    const parked = suspension(parkedResult);
    expect(mutations(parkedResult)).toEqual([{ key: 'phase', value: 'loading', operation: 'set' }]);
    expect(events(parkedResult)).toEqual([{ name: 'started' }]);

    const done = await runtime().resumeHandler(parked.suspensionId, { success: true, value: 'v!' });
    expect(successValue(done)).toEqual(['v!', 'done', 4]);
    // Each result carries only what happened since the previous one (docs/bridge-api.md).
    expect(mutations(done)).toEqual([{ key: 'phase', value: 'done', operation: 'set' }]);
    expect(events(done)).toEqual([]);
  });

  it('lets the handler catch a host error with try/catch', async () => {
    const code = `
      try {
        await $ext.kv.get('missing');
        return 'not reached';
      } catch (e) {
        return 'caught: ' + (e instanceof Error) + ' ' + e.message;
      }`;
    const parked = suspension(await runtime().executeHandler(code, context(kv)));
    const done = await runtime().resumeHandler(parked.suspensionId, { success: false, error: 'no such key' });
    expect(successValue(done)).toBe('caught: true no such key');
  });

  it('turns an uncaught host error into EXECUTION_ERROR carrying its message', async () => {
    const parked = suspension(await runtime().executeHandler("return await $ext.kv.get('k')", context(kv)));
    const done = await runtime().resumeHandler(parked.suspensionId, {
      success: false,
      error: 'backend down',
    });
    const error = failure(done);
    expect(error.code).toBe('EXECUTION_ERROR');
    expect(error.message).toContain('backend down');
  });

  it('resumes with no value as undefined', async () => {
    const parked = suspension(
      await runtime().executeHandler("return typeof (await $ext.kv.put('k', 1))", context(kv)),
    );
    expect(successValue(await runtime().resumeHandler(parked.suspensionId, { success: true }))).toBe(
      'undefined',
    );
  });

  it('rejects an unknown suspension id with SUSPENSION_NOT_FOUND', async () => {
    const error = await rejectionOf(() => runtime().resumeHandler('no-such-id', { success: true, value: 1 }));
    expect(error.code).toBe('SUSPENSION_NOT_FOUND');
    expect(error.message).toMatch(/unknown/i);
  });

  it('rejects a suspension id that was already resumed', async () => {
    const parked = suspension(await runtime().executeHandler("return await $ext.kv.get('k')", context(kv)));
    await runtime().resumeHandler(parked.suspensionId, { success: true, value: 1 });
    const error = await rejectionOf(() =>
      runtime().resumeHandler(parked.suspensionId, { success: true, value: 2 }),
    );
    expect(error.code).toBe('SUSPENSION_NOT_FOUND');
    expect(error.message).toMatch(/already/i);
  });

  it('lets exactly one of two concurrent resumes of the same id through', async () => {
    const parked = suspension(await runtime().executeHandler("return await $ext.kv.get('k')", context(kv)));
    const outcomes = await Promise.allSettled([
      runtime().resumeHandler(parked.suspensionId, { success: true, value: 'first' }),
      runtime().resumeHandler(parked.suspensionId, { success: true, value: 'second' }),
    ]);
    const resolved = outcomes.filter((o) => o.status === 'fulfilled');
    const rejected = outcomes.filter((o) => o.status === 'rejected');
    expect(resolved).toHaveLength(1);
    expect(rejected).toHaveLength(1);
    expect((rejected[0]!.reason as { code?: string }).code).toBe('SUSPENSION_NOT_FOUND');
  });

  it('rejects the promise with a generic error when the host gives no message', async () => {
    const parked = suspension(await runtime().executeHandler("return await $ext.kv.get('k')", context(kv)));
    const done = await runtime().resumeHandler(parked.suspensionId, { success: false });
    expect(failure(done).code).toBe('EXECUTION_ERROR');
  });

  it('keeps metrics cumulative across suspensions and leaves parked time out of durationUs', async () => {
    const first = await runtime().executeHandler(
      "$log('a'); const v = await $ext.kv.get('k'); $log('b'); return v",
      context(kv),
    );
    const parked = suspension(first);
    await sleep(400);
    const done = await runtime().resumeHandler(parked.suspensionId, { success: true, value: 1 });
    expect(done.metrics.hostCalls).toBe(first.metrics.hostCalls + 1);
    expect(done.metrics.durationUs).toBeGreaterThanOrEqual(first.metrics.durationUs);
    expect(done.metrics.cpuTimeUs).toBeGreaterThanOrEqual(first.metrics.cpuTimeUs);
    // Running this handler takes well under a millisecond; the 400 ms it spent parked must not count.
    expect(done.metrics.durationUs).toBeLessThan(300_000);
  });

  it('frees the parked instance once the handler finishes', async () => {
    const before = runtime().getStats().suspendedInstances;
    const parked = suspension(await runtime().executeHandler("return await $ext.kv.get('k')", context(kv)));
    expect(runtime().getStats().suspendedInstances).toBe(before + 1);
    await runtime().resumeHandler(parked.suspensionId, { success: true, value: 1 });
    expect(runtime().getStats().suspendedInstances).toBe(before);
  });
});

describe('parked handlers expire at the execution deadline', () => {
  const runtime = useRuntime({ maxInstances: 1, timeoutMs: 300, executionDeadlineMs: 300 });

  it('rejects resuming an expired suspension and gives its instance back', async () => {
    const parked = suspension(await runtime().executeHandler("return await $ext.kv.get('k')", context(kv)));
    await sleep(900);
    const error = await rejectionOf(() =>
      runtime().resumeHandler(parked.suspensionId, { success: true, value: 1 }),
    );
    expect(error.code).toBe('SUSPENSION_NOT_FOUND');
    expect(error.message).toMatch(/expired/i);
    // maxInstances is 1: this only runs if the expired handler's instance was released.
    expect(successValue(await runtime().executeHandler('return "free"', context()))).toBe('free');
    expect(runtime().getStats().suspendedInstances).toBe(0);
  });
});

describe('resume with the panel’s latest state', () => {
  const runtime = useRuntime({ maxInstances: 2 });
  const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

  it('shows the fresh snapshot to the reads after the await, with the handler’s own earlier writes in it', async () => {
    const code = `
      const before = $state.count;
      $state.count = before + 1;
      await $ext.kv.get('x');
      $state.count = $state.count + 1;
      return { before, after: $state.count, others: $state.others, keys: Object.keys($state) };`;
    const parkedResult = await runtime().executeHandler(
      code,
      context({ ...kv, stateJson: json({ count: 1 }) }),
    );
    expect(mutations(parkedResult)).toEqual([{ key: 'count', value: 2, operation: 'set' }]);
    // Meanwhile another execution moved the panel on: its +10 and a new key are in the snapshot.
    const done = await runtime().resumeHandler(
      suspension(parkedResult).suspensionId,
      { success: true },
      json({ count: 12, others: 'yes' }),
    );
    expect(successValue(done)).toEqual({ before: 1, after: 13, others: 'yes', keys: ['count', 'others'] });
    expect(mutations(done)).toEqual([{ key: 'count', value: 13, operation: 'set' }]);
  });

  it('keeps the old snapshot and the handler’s writes when no state is given', async () => {
    const code = "$state.a = 1; await $ext.kv.get('x'); return [$state.a, $state.b];";
    const parked = suspension(
      await runtime().executeHandler(code, context({ ...kv, stateSnapshot: { b: 2 } })),
    );
    expect(successValue(await runtime().resumeHandler(parked.suspensionId, { success: true }))).toEqual([
      1, 2,
    ]);
  });

  it('prefers stateJson to stateSnapshot and reads large states without converting them', async () => {
    const big = { list: Array.from({ length: 20_000 }, (_, i) => ({ i, label: `item ${i}` })), n: 7 };
    const result = await runtime().executeHandler(
      'return [$state.n, $state.list.length]',
      context({ ...kv, stateSnapshot: { n: 'ignored' }, stateJson: json(big) }),
    );
    expect(successValue(result)).toEqual([7, 20_000]);
  });

  it('ends the execution with INTERNAL_ERROR when the state is not the JSON text of an object', async () => {
    const parked = suspension(
      await runtime().executeHandler("await $ext.kv.get('x'); return 1", context(kv)),
    );
    const done = await runtime().resumeHandler(parked.suspensionId, { success: true }, Buffer.from('[1]'));
    expect(failure(done)).toMatchObject({
      code: 'INTERNAL_ERROR',
      message: expect.stringContaining('state snapshot'),
    });
    const bad = await runtime().executeHandler(
      'return 1',
      context({ ...kv, stateJson: Buffer.from('{"a":') }),
    );
    expect(failure(bad).code).toBe('INTERNAL_ERROR');
  });
});
