import {
  context,
  failure,
  rejectionOf,
  successValue,
  useRuntime,
  mutations,
  events,
  viewCommands,
  returned,
} from './support.js';
import type { WasmContext } from './support.js';

describe('executeHandler', () => {
  const runtime = useRuntime({ maxInstances: 2 });

  it('runs the code as the body of an async function and returns its value', async () => {
    const result = await runtime().executeHandler(
      'const x = await Promise.resolve(20); return x + 22',
      context(),
    );
    expect(successValue(result)).toBe(42);
    expect(mutations(result)).toEqual([]);
    expect(events(result)).toEqual([]);
    expect(viewCommands(result)).toEqual([]);
    expect(result.suspension).toBeUndefined();
    expect(result.error).toBeUndefined();
  });

  it.each([
    ['a string', "return 'hello'", 'hello'],
    ['null', 'return null', null],
    ['a boolean', 'return false', false],
    ['an array', 'return [1, "two", [3]]', [1, 'two', [3]]],
    ['a nested object', 'return { a: { b: [true, null] } }', { a: { b: [true, null] } }],
    ['a unicode string', "return 'é ✓ 😀'", 'é ✓ 😀'],
  ])('returns %s as JSON', async (_name, code, expected) => {
    expect(successValue(await runtime().executeHandler(code, context()))).toEqual(expected);
  });

  it('returns the console lines of the handler, formatted like Node, and none when it wrote none', async () => {
    const result = await runtime().executeHandler(
      "console.log('n=%d', 5, [1, 'a'], {b: null}); console.error('oops'); return 1",
      context(),
    );
    expect(successValue(result)).toBe(1);
    expect(result.logs).toEqual([
      { level: 'info', message: "n=5 [ 1, 'a' ] { b: null }", atMs: expect.any(Number) },
      { level: 'error', message: 'oops', atMs: expect.any(Number) },
    ]);
    expect((await runtime().executeHandler('return 1', context())).logs).toEqual([]);
  });

  it('omits returnValue when the handler returns nothing', async () => {
    const result = await runtime().executeHandler('const unused = 1', context());
    expect(result.status).toBe('success');
    expect(returned(result)).toBeUndefined();
  });

  it('exposes $args and $scope', async () => {
    const result = await runtime().executeHandler(
      'return { sum: $args.a + $args.b, user: $scope.user, list: $args.list }',
      context({ args: { a: 2, b: 3, list: ['x'] }, scope: { user: 'ada' } }),
    );
    expect(successValue(result)).toEqual({ sum: 5, user: 'ada', list: ['x'] });
  });

  it('accepts non-object args', async () => {
    expect(successValue(await runtime().executeHandler('return $args * 2', context({ args: 21 })))).toBe(42);
  });

  it('gives $scope as an empty object when the context has none', async () => {
    expect(successValue(await runtime().executeHandler('return Object.keys($scope).length', context()))).toBe(
      0,
    );
  });

  it('runs empty code to a result without a value', async () => {
    const result = await runtime().executeHandler('', context());
    expect(result.status).toBe('success');
    expect(returned(result)).toBeUndefined();
  });

  it('reports execution metrics', async () => {
    const result = await runtime().executeHandler(
      'let s = 0; for (let i = 0; i < 1000; i++) s += i; return s',
      context(),
    );
    expect(successValue(result)).toBe(499500);
    const { metrics } = result;
    expect(metrics.durationUs).toBeGreaterThan(0);
    expect(metrics.cpuTimeUs).toBeGreaterThan(0);
    expect(metrics.memoryUsedBytes).toBeGreaterThan(0);
    expect(metrics.memoryPeakBytes).toBeGreaterThanOrEqual(metrics.memoryUsedBytes);
    expect(metrics.hostCalls).toBeGreaterThanOrEqual(0);
    expect(typeof metrics.cacheHit).toBe('boolean');
    expect(metrics.compilationTimeUs).toBeGreaterThanOrEqual(0);
  });

  it('serves the same source from the bytecode cache the second time', async () => {
    const code = `return 'cache probe ${Date.now()}'`;
    const first = await runtime().executeHandler(code, context());
    const second = await runtime().executeHandler(code, context());
    expect(first.metrics.cacheHit).toBe(false);
    expect(second.metrics.cacheHit).toBe(true);
    expect(successValue(second)).toBe(successValue(first));
  });

  it('starts every execution from a clean sandbox', async () => {
    await runtime().executeHandler(
      'globalThis.leaked = 1; Object.prototype.polluted = true; Array.prototype.map = null; return 1',
      context(),
    );
    const result = await runtime().executeHandler(
      'return [typeof leaked, ({}).polluted === undefined, typeof [].map]',
      context(),
    );
    expect(successValue(result)).toEqual(['undefined', true, 'function']);
  });

  it('does not leak one panel’s state or args into the next execution', async () => {
    await runtime().executeHandler(
      'globalThis.secret = $args.secret',
      context({ panelId: 'tenant-a', args: { secret: 's3cr3t' } }),
    );
    const result = await runtime().executeHandler(
      'return typeof secret === "undefined" && $args.secret === undefined',
      context({ panelId: 'tenant-b', args: {} }),
    );
    expect(successValue(result)).toBe(true);
  });

  it('keeps Node’s event loop free while a handler runs', async () => {
    let ticks = 0;
    const timer = setInterval(() => {
      ticks += 1;
    }, 5);
    try {
      const result = await runtime().executeHandler(
        'const end = Date.now() + 300; while (Date.now() < end) {} return "done"',
        context(),
      );
      expect(successValue(result)).toBe('done');
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThan(5);
  });

  it('offers Date.now and no host clock or randomness beyond it', async () => {
    const result = await runtime().executeHandler(
      'return [typeof Date.now(), typeof process, typeof require, typeof setTimeout, typeof fetch, typeof std, typeof os]',
      context(),
    );
    expect(successValue(result)).toEqual([
      'number',
      'undefined',
      'undefined',
      'undefined',
      'undefined',
      'undefined',
      'undefined',
    ]);
  });

  it('offers the standard library a handler expects', async () => {
    const result = await runtime().executeHandler(
      `const re = new RegExp($args.pattern, 'g');
       const [first] = [...'a1b22c333'.matchAll(re)].map((m) => m[0]);
       class Point { #x; constructor(x) { this.#x = x } get x() { return this.#x } }
       function* count() { yield 1; yield 2 }
       const { a, ...rest } = { a: 1, b: 2, c: 3 };
       return {
         first,
         date: new Date(Date.UTC(2024, 1, 29)).toISOString(),
         map: [...new Map([[1, 'one']]).values()],
         typed: Array.from(new Uint8Array([1, 2, 3]).map((x) => x * 2)),
         big: (2n ** 64n).toString(),
         point: new Point(5).x,
         gen: [...count()],
         rest,
         all: await Promise.all([1, Promise.resolve(2)]),
         sorted: ['b', 'a', 'c'].toSorted(),
         math: Math.max(...[3, 9, 4]),
         normalized: 'e\u0301'.normalize('NFC').length,
       };`,
      context({ args: { pattern: '\\d+' } }),
    );
    expect(successValue(result)).toEqual({
      first: '1',
      date: '2024-02-29T00:00:00.000Z',
      map: ['one'],
      typed: [2, 4, 6],
      big: '18446744073709551616',
      point: 5,
      gen: [1, 2],
      rest: { b: 2, c: 3 },
      all: [1, 2],
      sorted: ['a', 'b', 'c'],
      math: 9,
      normalized: 1,
    });
  });

  it('lets a per-call timeout override the runtime default', async () => {
    const error = failure(await runtime().executeHandler('for (;;) {}', context(), 100));
    expect(error.code).toBe('TIMEOUT');
  });

  it.each([0, -1, 1.5])('rejects a per-call timeoutMs of %p with INVALID_CONFIG', async (timeoutMs) => {
    const error = await rejectionOf(() => runtime().executeHandler('return 1', context(), timeoutMs));
    expect(error.code).toBe('INVALID_CONFIG');
    expect(error.message).toContain('timeoutMs');
  });

  it('rejects a malformed context with an error naming the problem', async () => {
    const bad = { ...context(), capabilities: 'state:read:*' } as unknown as WasmContext;
    const error = await rejectionOf(() => runtime().executeHandler('return 1', bad));
    expect(error.message).toContain('capabilities');
  });
});
