import { MiB, context, failure, useHostileRuntime, useRuntime, returned } from './support.js';

// Allocation bombs against a 32 MiB instance. Each runs several times so that memory kept
// across executions (a leak in the pool, an uncapped copy on the host) shows up as RSS growth.
describe('hostile: memory', () => {
  const memoryLimitBytes = 32 * MiB;
  const runtime = useHostileRuntime({ maxInstances: 2, memoryLimitBytes, timeoutMs: 5000 });
  const repeats = 3;

  const bombs: [string, string][] = [
    ['an ever-growing array', 'const a = []; for (;;) a.push(new Array(100000).fill(1.5));'],
    // QuickJS concatenates into ropes, so a doubling string must be read to take up memory.
    ['a doubling string', "let s = 'x'; for (;;) { s += s; s.charCodeAt(s.length >> 1); }"],
    [
      'an object with ever more keys',
      'const o = {}; for (let i = 0; ; i++) o["key" + i] = { i, s: "v" + i };',
    ],
    ['a single huge ArrayBuffer', 'return new ArrayBuffer(512 * 1024 * 1024).byteLength;'],
    ['ever more typed arrays', 'const keep = []; for (;;) keep.push(new Float64Array(1 << 20));'],
    ['a Map of closures', 'const m = new Map(); for (let i = 0; ; i++) m.set(i, () => i);'],
    ['a string built by repeat', "return 'x'.repeat(1 << 29).length;"],
  ];

  it.each(bombs)('stops %s with MEMORY_LIMIT', async (_name, code) => {
    for (let i = 0; i < repeats; i++) {
      const error = failure(await runtime().executeHandler(code, context()));
      expect(error.code).toBe('MEMORY_LIMIT');
    }
  });

  it('stops many bombs at once, more than there are instances', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        runtime().executeHandler('const a = []; for (;;) a.push(new Array(100000).fill(1.5));', context()),
      ),
    );
    expect(results.map((r) => r.error?.code)).toEqual(Array(8).fill('MEMORY_LIMIT'));
  });

  it('stops a handler that catches out-of-memory and keeps allocating', async () => {
    // Running out of memory ends the execution on the host side: the handler cannot catch it.
    const code =
      "const keep = []; for (;;) { try { keep.push('x'.repeat(1 << 20) + keep.length) } catch (e) {} }";
    expect(failure(await runtime().executeHandler(code, context(), 1000)).code).toBe('MEMORY_LIMIT');
  });

  it('refuses a state snapshot larger than the instance can hold', async () => {
    const big = 'x'.repeat(48 * MiB);
    const result = await runtime().executeHandler(
      'return $state.big.length',
      context({ stateSnapshot: { big }, capabilities: ['state:read:*'] }),
    );
    expect(failure(result).code).toBe('MEMORY_LIMIT');
  });

  it('refuses args larger than the instance can hold', async () => {
    const result = await runtime().executeHandler(
      'return $args.length',
      context({ args: 'y'.repeat(48 * MiB) }),
    );
    expect(failure(result).code).toBe('MEMORY_LIMIT');
  });

  it('refuses a return value that cannot be serialised within the memory cap', async () => {
    const result = await runtime().executeHandler(
      "const s = 'z'.repeat(20 * 1024 * 1024); return [s, s, s, s];",
      context(),
    );
    expect(failure(result).code).toBe('MEMORY_LIMIT');
  });

  it('returns a large value that fits', async () => {
    const result = await runtime().executeHandler("return 'q'.repeat(4 * 1024 * 1024);", context());
    expect(result.status).toBe('success');
    expect((returned(result) as string).length).toBe(4 * 1024 * 1024);
  });

  it('refuses huge state writes', async () => {
    const result = await runtime().executeHandler(
      "for (let i = 0; ; i++) $state['k' + i] = 'w'.repeat(1 << 22) + i;",
      context({ capabilities: ['state:write:*'] }),
    );
    // The host caps the bytes it records per execution, so this stops before memory runs out.
    expect(failure(result).code).toBe('RESOURCE_LIMIT');
  });

  // Small arrays sharing one reference: ~1 MB of JSON per `big` for a few KB of heap. What the
  // host receives and counts is the text JSON.stringify makes, every reference expanded.
  const shared = 'const inner = [0], mid = new Array(1000).fill(inner), big = new Array(262).fill(mid);';
  const smallBudget = useRuntime({
    maxInstances: 3,
    memoryLimitBytes,
    timeoutMs: 5000,
    maxValueBytes: 2 * MiB,
  });

  it('counts state writes and the return value against one value budget, as the text they are', async () => {
    // A 2 MiB budget: the values take milliseconds to make, so the test measures the budget and
    // not the machine (with the default 16 MiB they take seconds of CPU each, which a busy
    // machine stretches past any deadline).
    const code = `${shared} for (let i = 0; i < 15; i++) { $state['k' + i] = big; delete $state['k' + i]; } return new Array(1500).fill(mid);`;
    const results = await Promise.all(
      Array.from({ length: 3 }, () =>
        smallBudget().executeHandler(code, context({ capabilities: ['state:write:*'] }), 60_000),
      ),
    );
    for (const result of results) {
      expect(failure(result)).toMatchObject({
        code: 'RESOURCE_LIMIT',
        message: expect.stringContaining('maxValueBytes'),
      });
      // What was recorded before the budget ran out is reported, as text.
      expect(result.stateMutations.length).toBeGreaterThan(0);
      expect(typeof result.stateMutations[0]!.valueJson).toBe('string');
    }
  });

  it('hands a large value within the budget over as one string', async () => {
    const result = await runtime().executeHandler(
      `${shared} return new Array(1500).fill(mid);`,
      context(),
      60_000,
    );
    expect(result.status).toBe('success');
    expect(result.returnValueJson!.length).toBeGreaterThan(6_000_000);
    expect(result.returnValueJson!.startsWith('[[[0],[0],')).toBe(true);
  });
});
