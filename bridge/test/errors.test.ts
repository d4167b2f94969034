import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';

import { WasmRuntime, context, failure, isError, rejectionOf, useRuntime } from './support.js';
import type { WasmResult } from './support.js';

const contract = readFileSync(new URL('../../docs/bridge-api.md', import.meta.url), 'utf8');

/** The `ErrorCode` union as docs/bridge-api.md declares it. */
function documentedHandlerCodes(): string[] {
  const union = /export type ErrorCode =([^;]+);/.exec(contract)?.[1] ?? '';
  return [...union.matchAll(/'([A-Z_]+)'/g)].map((m) => m[1]!).sort();
}

/** The codes of the "API was misused" table in docs/bridge-api.md. */
function documentedApiCodes(): string[] {
  return [...contract.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]!).sort();
}

type Runtime = InstanceType<typeof WasmRuntime>;

// One handler per code that makes the real module produce it. The test below fails when the
// documented list and this table drift apart in either direction. INTERNAL_ERROR reports a fault
// of the host itself, which no handler can cause on purpose: it is listed without a producer.
const handlerCodeProducers: Record<string, ((rt: Runtime) => Promise<WasmResult>) | null> = {
  TIMEOUT: (rt) => rt.executeHandler('for (;;) {}', context(), 100),
  MEMORY_LIMIT: (rt) =>
    rt.executeHandler('const a = []; for (;;) a.push(new Array(100000).fill(1.5))', context()),
  STACK_OVERFLOW: (rt) => rt.executeHandler('function f(n) { return f(n + 1) + 1 } return f(0)', context()),
  PERMISSION_DENIED: (rt) => rt.executeHandler('return $state.x', context({ stateSnapshot: { x: 1 } })),
  RESOURCE_LIMIT: (rt) =>
    rt.executeHandler('for (let i = 0; ; i++) $emit("e", i)', context({ capabilities: ['events:emit:*'] })),
  EXECUTION_ERROR: (rt) => rt.executeHandler('throw new Error("boom")', context()),
  COMPILATION_ERROR: (rt) => rt.executeHandler('const = 1', context()),
  INVALID_HANDLER: (rt) => rt.executeCompiledHandler(Buffer.from('not bytecode'), context()),
  INTERNAL_ERROR: null,
};

/**
 * INTERNAL_ERROR: in a child Node whose address space is capped at 16 GB, the engine cannot
 * reserve a pool of 1,000 instances of 1 GiB. `ready()` and every later call must reject with
 * the same code; rejects with what `ready()` reported.
 */
async function startWithoutAddressSpace(): Promise<never> {
  const script = `
    import { WasmRuntime } from '@nexus/bridge';
    const outcome = async (call) => {
      try { await call(); return {}; } catch (e) { return { code: e.code, message: e.message }; }
    };
    const runtime = new WasmRuntime({ maxInstances: 1000, memoryLimitBytes: 1024 ** 3 });
    const ready = await outcome(() => runtime.ready());
    const execute = await outcome(() => runtime.executeHandler('return 1', {
      panelId: 'p', handlerName: 'h', stateSnapshot: {}, args: {}, capabilities: [],
    }));
    process.stdout.write(JSON.stringify({ ready, execute }));
    process.exit(0);`;
  const { stdout } = await promisify(execFile)(
    '/bin/sh',
    ['-c', 'ulimit -v 16000000 && exec "$0" --input-type=module -e "$1"', process.execPath, script],
    { cwd: new URL('..', import.meta.url).pathname },
  );
  type Outcome = { code?: string; message?: string };
  const { ready, execute } = JSON.parse(stdout) as { ready: Outcome; execute: Outcome };
  expect(execute.code).toBe(ready.code);
  throw Object.assign(new Error(ready.message ?? 'the engine started'), { code: ready.code });
}

const apiCodeProducers: Record<string, (rt: Runtime) => Promise<unknown>> = {
  INVALID_CONFIG: () => Promise.resolve().then(() => new WasmRuntime({ maxInstances: -1 })),
  COMPILATION_ERROR: (rt) => rt.precompileHandler('return ('),
  SUSPENSION_NOT_FOUND: (rt) => rt.resumeHandler('unknown-id', { success: true }),
  INTERNAL_ERROR: startWithoutAddressSpace,
  RUNTIME_SHUT_DOWN: async () => {
    const closed = new WasmRuntime({ maxInstances: 1 });
    await closed.shutdown();
    return closed.executeHandler('return 1', context());
  },
};

describe('error codes', () => {
  const runtime = useRuntime({ maxInstances: 2 });

  it('has a producer for exactly the documented handler error codes', () => {
    expect(Object.keys(handlerCodeProducers).sort()).toEqual(documentedHandlerCodes());
  });

  it('has a producer for exactly the documented API error codes', () => {
    expect(Object.keys(apiCodeProducers).sort()).toEqual(documentedApiCodes());
  });

  it.each(Object.keys(handlerCodeProducers).filter((c) => handlerCodeProducers[c] !== null))(
    'resolves with status error and code %s',
    async (code) => {
      const result = await handlerCodeProducers[code]!(runtime());
      const error = failure(result);
      expect(error.code).toBe(code);
      expect(error.message.length).toBeGreaterThan(0);
    },
  );

  it.each(Object.keys(apiCodeProducers))('rejects with an Error whose code is %s', async (code) => {
    const error = await rejectionOf(() => apiCodeProducers[code]!(runtime()));
    expect(isError(error)).toBe(true);
    expect(error.code).toBe(code);
  });
});

describe('error locations are in the handler’s own source', () => {
  const runtime = useRuntime({ maxInstances: 2 });

  const thrown: [string, string, { line: number; column: number }][] = [
    ['on the first line', 'null.foo', { line: 1, column: 1 }],
    ['after blank lines', 'let a = 1;\n\n    undefinedFn();', { line: 3, column: 5 }],
    [
      'inside a nested function',
      'function inner(o) {\n  return o.y.z;\n}\nreturn inner({});',
      { line: 2, column: 10 },
    ],
    ['after an await', 'await Promise.resolve();\n  null.x;', { line: 2, column: 3 }],
  ];

  it.each(thrown)('locates a thrown error %s', async (_name, code, location) => {
    const error = failure(await runtime().executeHandler(code, context()));
    expect(error.code).toBe('EXECUTION_ERROR');
    expect(error.location).toEqual(location);
  });

  it('locates `throw new Error()` at the Error constructor call', async () => {
    const error = failure(
      await runtime().executeHandler("const a = 1;\n  throw new Error('boom');", context()),
    );
    expect(error.message).toContain('boom');
    expect(error.location).toEqual({ line: 2, column: 13 });
  });

  it('locates an error thrown after a resume', async () => {
    const ctx = context({ capabilities: ['ext:kv'], extensionRegistry: { kv: ['get'] } });
    const parked = await runtime().executeHandler(
      "const v = await $ext.kv.get('k');\nreturn v.missing.field;",
      ctx,
    );
    expect(parked.status).toBe('suspended');
    const done = await runtime().resumeHandler(parked.suspension!.suspensionId, { success: true, value: {} });
    expect(failure(done).location).toEqual({ line: 2, column: 8 });
  });

  it('locates an error in a precompiled handler', async () => {
    const bytecode = await runtime().precompileHandler('const x = 1;\nnull.boom;');
    const error = failure(await runtime().executeCompiledHandler(bytecode, context()));
    expect(error.location).toEqual({ line: 2, column: 1 });
  });

  const syntax: [string, { line: number; column: number }][] = [
    ['if (x {', { line: 1, column: 7 }],
    ['const ok = 1;\nconst = broken;', { line: 2, column: 7 }],
  ];

  it.each(syntax)('locates the syntax error in %j', async (code, location) => {
    const error = failure(await runtime().executeHandler(code, context()));
    expect(error.code).toBe('COMPILATION_ERROR');
    expect(error.location).toEqual(location);
  });
});
