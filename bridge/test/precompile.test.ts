import { context, failure, rejectionOf, successValue, useRuntime, mutations } from './support.js';

describe('precompileHandler and executeCompiledHandler', () => {
  const runtime = useRuntime({ maxInstances: 2 });

  it('compiles to a bytecode Buffer that runs like the source', async () => {
    const code = '$state.total = $args.a * $args.b; return { total: $state.total }';
    const bytecode = await runtime().precompileHandler(code);
    expect(Buffer.isBuffer(bytecode)).toBe(true);
    expect(bytecode.length).toBeGreaterThan(0);

    const ctx = context({ args: { a: 6, b: 7 }, capabilities: ['state:read:*', 'state:write:*'] });
    const compiled = await runtime().executeCompiledHandler(bytecode, ctx);
    const fromSource = await runtime().executeHandler(code, ctx);
    expect(successValue(compiled)).toEqual({ total: 42 });
    expect(mutations(compiled)).toEqual(mutations(fromSource));
    expect(compiled.metrics.compilationTimeUs).toBe(0);
  });

  it('runs the same bytecode many times, each from a clean sandbox', async () => {
    const bytecode = await runtime().precompileHandler('globalThis.n = (globalThis.n ?? 0) + 1; return n');
    for (let i = 0; i < 5; i++) {
      expect(successValue(await runtime().executeCompiledHandler(bytecode, context()))).toBe(1);
    }
  });

  it('supports suspensions in compiled handlers', async () => {
    const bytecode = await runtime().precompileHandler("return 'got ' + (await $ext.kv.get('k'))");
    const result = await runtime().executeCompiledHandler(
      bytecode,
      context({ capabilities: ['ext:kv'], extensionRegistry: { kv: ['get'] } }),
    );
    expect(result.status).toBe('suspended');
    const done = await runtime().resumeHandler(result.suspension!.suspensionId, {
      success: true,
      value: 'it',
    });
    expect(successValue(done)).toBe('got it');
  });

  it('rejects a syntax error with COMPILATION_ERROR and its location', async () => {
    const error = await rejectionOf(() => runtime().precompileHandler('const ok = 1;\nconst = broken;'));
    expect(error.code).toBe('COMPILATION_ERROR');
    expect((error as unknown as { location?: unknown }).location).toEqual({ line: 2, column: 7 });
  });

  it('honours a per-call timeout', async () => {
    const bytecode = await runtime().precompileHandler('for (;;) {}');
    expect(failure(await runtime().executeCompiledHandler(bytecode, context(), 100)).code).toBe('TIMEOUT');
  });

  describe('corrupt or foreign bytecode resolves with INVALID_HANDLER', () => {
    let valid: Buffer;
    beforeAll(async () => {
      valid = await runtime().precompileHandler(
        'return "a fairly long string constant to give the bytecode a body"',
      );
    });

    const corruptions: [string, (b: Buffer) => Buffer][] = [
      ['an empty buffer', () => Buffer.alloc(0)],
      ['a truncated buffer', (b) => b.subarray(0, Math.floor(b.length / 2))],
      [
        'flipped bytes in the body',
        (b) => Buffer.from(b.map((x, i) => (i > 8 && i % 3 === 0 ? x ^ 0xff : x))),
      ],
      [
        'random bytes',
        (b) => Buffer.from(Array.from({ length: b.length }, (_, i) => (i * 7919 + 13) & 0xff)),
      ],
      ['JavaScript source instead of bytecode', () => Buffer.from('return 1')],
      ['a WebAssembly module header', () => Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00])],
    ];

    it.each(corruptions)('%s', async (_name, corrupt) => {
      const result = await runtime().executeCompiledHandler(corrupt(valid), context());
      expect(failure(result).code).toBe('INVALID_HANDLER');
    });

    it('still runs valid bytecode afterwards', async () => {
      expect(successValue(await runtime().executeCompiledHandler(valid, context()))).toMatch(/fairly long/);
    });
  });
});
