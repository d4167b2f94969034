// Shared helpers for the suite. Every test drives the real native module built by
// `make build-bridge`; nothing here stubs or wraps its behaviour.
import { WasmRuntime } from '@nexus/bridge';
import type { RuntimeConfig, WasmContext, WasmResult, WasmError } from '@nexus/bridge';

export { WasmRuntime };
export type { RuntimeConfig, WasmContext, WasmResult, WasmError };

const MiB = 1024 * 1024;

/** A context with no capabilities; tests grant exactly what they exercise. */
export function context(overrides: Partial<WasmContext> = {}): WasmContext {
  return {
    panelId: 'panel-test',
    handlerName: 'handler',
    stateSnapshot: {},
    args: {},
    capabilities: [],
    ...overrides,
  };
}

/**
 * Creates a runtime for one describe block and shuts it down afterwards, so a failing test
 * never leaves worker threads running behind the suite.
 */
export function useRuntime(config: RuntimeConfig = {}): () => WasmRuntime {
  let runtime: WasmRuntime | undefined;
  beforeAll(() => {
    runtime = new WasmRuntime(config);
  });
  afterAll(async () => {
    await runtime?.shutdown();
  });
  return () => {
    if (!runtime) throw new Error('runtime used outside of a test');
    return runtime;
  };
}

/** The value of JSON text the bridge handed over (undefined stays undefined). */
function parsed(text: string | undefined): unknown {
  return text === undefined ? undefined : JSON.parse(text);
}

/** The return value, parsed from the JSON text the result carries. */
export function returned(result: WasmResult): unknown {
  return parsed(result.returnValueJson);
}

/** The state mutations with their values parsed (`value` absent where the text is). */
export function mutations(result: WasmResult): { key: string; value?: unknown; operation: string }[] {
  return result.stateMutations.map(({ key, valueJson, operation }) =>
    valueJson === undefined ? { key, operation } : { key, value: parsed(valueJson), operation },
  );
}

/** The events with their payloads parsed. */
export function events(result: WasmResult): { name: string; payload?: unknown }[] {
  return result.events.map(({ name, payloadJson }) =>
    payloadJson === undefined ? { name } : { name, payload: parsed(payloadJson) },
  );
}

/** The view commands with their arguments parsed. */
export function viewCommands(result: WasmResult): { type: string; componentId?: string; args?: unknown }[] {
  return result.viewCommands.map(({ type, componentId, argsJson }) => ({
    type,
    ...(componentId === undefined || componentId === null ? {} : { componentId }),
    ...(argsJson === undefined || argsJson === null ? {} : { args: parsed(argsJson) }),
  }));
}

/** Asserts a successful result and returns its value. */
export function successValue(result: WasmResult): unknown {
  if (result.status !== 'success') {
    throw new Error(`expected success, got ${result.status}: ${JSON.stringify(result.error)}`);
  }
  return returned(result);
}

/** Asserts an error result and returns its error. */
export function failure(result: WasmResult): WasmError {
  if (result.status !== 'error' || !result.error) {
    throw new Error(`expected an error result, got ${result.status}: ${result.returnValueJson}`);
  }
  return result.error;
}

/** Asserts a suspended result and returns its suspension. */
export function suspension(result: WasmResult): NonNullable<WasmResult['suspension']> {
  if (result.status !== 'suspended' || !result.suspension) {
    throw new Error(`expected a suspended result, got ${result.status}: ${JSON.stringify(result.error)}`);
  }
  return result.suspension;
}

/** The error a promise rejects with (or a synchronous call throws), for checking its `code`. */
export async function rejectionOf(action: () => unknown): Promise<Error & { code?: string }> {
  try {
    await action();
  } catch (error) {
    // The native module creates its errors in Node's main realm, not in jest's sandboxed one,
    // so `instanceof Error` would be false: check the brand instead.
    if (isError(error)) return error;
    throw new Error(`rejected with a non-Error value: ${String(error)}`);
  }
  throw new Error('expected the call to fail, but it succeeded');
}

export function isError(value: unknown): value is Error & { code?: string } {
  return Object.prototype.toString.call(value) === '[object Error]';
}

export function rssBytes(): number {
  return process.memoryUsage.rss();
}

/**
 * How far the process's resident size may grow over a run of hostile handlers: a few instances'
 * worth of linear memory plus allocator slack. Unbounded growth (a leak per execution, an
 * uncapped allocation) overshoots it by far when the cases are repeated.
 */
export function rssAllowance(memoryLimitBytes: number, instances: number): number {
  return instances * memoryLimitBytes + 128 * MiB;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export { MiB };

/**
 * For hostile handlers: after every test the same runtime must still execute a plain handler
 * (the Node process and the pool survived) and the process's resident size must stay within
 * the allowance measured from a warmed-up baseline.
 */
export function useHostileRuntime(config: RuntimeConfig): () => WasmRuntime {
  const runtime = useRuntime(config);
  let baseline = 0;
  beforeAll(async () => {
    await runtime().executeHandler('return 1', context());
    baseline = rssBytes();
  });
  afterEach(async () => {
    const probe = await runtime().executeHandler('return [1, 2].map((x) => x * 21)', context());
    expect(returned(probe)).toEqual([21, 42]);
    const memoryLimit = config.memoryLimitBytes ?? 32 * MiB;
    const growth = rssBytes() - baseline;
    expect(growth).toBeLessThan(rssAllowance(memoryLimit, config.maxInstances ?? 10));
  });
  return runtime;
}
