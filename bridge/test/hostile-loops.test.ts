import { context, failure, suspension, useHostileRuntime } from './support.js';

// Every handler here would run forever; each must come back as TIMEOUT within its budget.
describe('hostile: endless execution', () => {
  const runtime = useHostileRuntime({ maxInstances: 2, timeoutMs: 1000 });
  const budgetMs = 150;

  const loops: [string, string][] = [
    ['a synchronous loop', 'for (;;) {}'],
    ['a while loop doing work', 'let i = 0; while (true) { i = (i + 1) % 7 }'],
    // Each job queues the next and nothing accumulates, so only the clock can stop it.
    [
      'a promise chain',
      'const spin = () => { Promise.resolve().then(spin) }; spin(); await new Promise(() => {});',
    ],
    ['an await loop', 'for (;;) await null;'],
    ['a getter', 'const o = { get x() { for (;;) {} } }; return o.x;'],
    ['a getter on the return value', 'return { get x() { for (;;) {} } };'],
    ['toJSON on the return value', 'return { toJSON() { for (;;) {} } };'],
    ['a catastrophic regular expression', "return /^(a+)+$/.test('a'.repeat(40) + 'b');"],
    ['a loop that catches whatever interrupts it', 'for (;;) { try { for (;;) {} } catch (e) {} }'],
    ['a loop in a finally block', 'try { for (;;) {} } finally { for (;;) {} }'],
    ['a thrown Proxy whose traps loop', 'throw new Proxy({}, { get() { for (;;) {} } });'],
    ['a sort comparator that never ends', '[3, 2, 1].sort(() => { for (;;) {} });'],
  ];

  it.each(loops)('stops %s with TIMEOUT', async (_name, code) => {
    const error = failure(await runtime().executeHandler(code, context(), budgetMs));
    expect(error.code).toBe('TIMEOUT');
  });

  it('stops a getter on a state write with TIMEOUT', async () => {
    const result = await runtime().executeHandler(
      '$state.v = { get x() { for (;;) {} } };',
      context({ capabilities: ['state:write:*'] }),
      budgetMs,
    );
    expect(failure(result).code).toBe('TIMEOUT');
  });

  it('stops a getter on an event payload with TIMEOUT', async () => {
    const result = await runtime().executeHandler(
      "$emit('e', { get x() { for (;;) {} } });",
      context({ capabilities: ['events:emit:*'] }),
      budgetMs,
    );
    expect(failure(result).code).toBe('TIMEOUT');
  });

  it('stops a loop that starts after a resume with TIMEOUT', async () => {
    const parked = suspension(
      await runtime().executeHandler(
        "await $ext.kv.get('k'); for (;;) {}",
        context({ capabilities: ['ext:kv'], extensionRegistry: { kv: ['get'] } }),
        budgetMs,
      ),
    );
    const done = await runtime().resumeHandler(parked.suspensionId, { success: true, value: 1 });
    expect(failure(done).code).toBe('TIMEOUT');
  });

  it('keeps timing out the same way when repeated', async () => {
    const codes = await Promise.all(
      Array.from({ length: 6 }, () => runtime().executeHandler('for (;;) {}', context(), 100)),
    );
    expect(codes.map((r) => r.error?.code)).toEqual(Array(6).fill('TIMEOUT'));
  });
});
