// The caller-thread path the kernel uses (precompileHandler, then executeCompiledHandler) and the
// two time bounds: timeoutMs is CPU time the handler runs, so a busy machine never spends it;
// executionDeadlineMs is wall time, so a starved execution still ends. Outcomes and error codes
// only: how long anything took is the benchmarks' business.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { availableParallelism } from 'node:os';

import { context, failure, successValue, useRuntime, type WasmResult } from './support.js';

/** Busy loops that stop by themselves after two minutes, should this process die before killing them. */
const BUSY_LOOP = 'const end = Date.now() + 120000; for (;;) { if (Date.now() > end) break; }';

async function startBusyLoops(count: number, started: ChildProcess[]): Promise<void> {
  for (let i = 0; i < count; i++) {
    const child = spawn(process.execPath, ['-e', BUSY_LOOP], { stdio: 'ignore' });
    started.push(child);
    await once(child, 'spawn');
  }
}

async function stopBusyLoops(started: ChildProcess[]): Promise<void> {
  await Promise.all(
    started.splice(0).map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }),
  );
}

/** `rounds` batches of `batch` concurrent calls; the codes of those that did not succeed. */
async function failedCodes(run: () => Promise<WasmResult>, rounds: number, batch: number): Promise<string[]> {
  const failed: string[] = [];
  for (let round = 0; round < rounds; round++) {
    const results = await Promise.all(Array.from({ length: batch }, run));
    for (const result of results) {
      if (result.status !== 'success') failed.push(result.error?.code ?? result.status);
    }
  }
  return failed;
}

// Everything is slow while busy loops hold every core (the bridge threads run at nice 10 behind
// them): a generous timeout per test, and no more calls than it takes to show the point.
const UNDER_LOAD_MS = 240_000;

describe('with busy loops on every core', () => {
  const runtime = useRuntime({ maxInstances: 8 });
  const loops: ChildProcess[] = [];

  beforeAll(async () => {
    await startBusyLoops(availableParallelism() + 1, loops);
  });
  afterAll(async () => {
    await stopBusyLoops(loops);
  });

  it(
    'never times out a trivial handler with timeoutMs 20',
    async () => {
      const bytecode = await runtime().precompileHandler('return $args.a + $args.b');
      const ctx = context({ args: { a: 1, b: 2 } });
      const failed = await failedCodes(() => runtime().executeCompiledHandler(bytecode, ctx, 20), 25, 8);
      expect(failed).toEqual([]);
    },
    UNDER_LOAD_MS,
  );

  it(
    'never times out a handler that moves to the bridge threads with a few ms of work in timeoutMs 20',
    async () => {
      // Outlives its slice, so it continues on a bridge thread (nice 10, behind the busy loops).
      const bytecode = await runtime().precompileHandler(
        'let x = 0; for (let i = 0; i < 20000; i++) x += i % 7; return x;',
      );
      const failed = await failedCodes(
        () => runtime().executeCompiledHandler(bytecode, context(), 20),
        10,
        4,
      );
      expect(failed).toEqual([]);
    },
    UNDER_LOAD_MS,
  );

  it(
    'still ends an endless loop in TIMEOUT',
    async () => {
      const bytecode = await runtime().precompileHandler('for (;;) {}');
      const results = await Promise.all(
        Array.from({ length: 3 }, () => runtime().executeCompiledHandler(bytecode, context(), 100)),
      );
      expect(results.map((result) => failure(result).code)).toEqual(['TIMEOUT', 'TIMEOUT', 'TIMEOUT']);
    },
    UNDER_LOAD_MS,
  );
});

describe('the CPU budget of an execution', () => {
  // The default deadline (30 s) is far away: only the CPU budget can end the loop, however busy
  // the machine.
  const runtime = useRuntime({ maxInstances: 2 });

  it('ends an endless loop at its CPU budget, saying so', async () => {
    const bytecode = await runtime().precompileHandler('for (;;) {}');
    const result = await runtime().executeCompiledHandler(bytecode, context(), 50);
    const error = failure(result);
    expect(error.code).toBe('TIMEOUT');
    expect(error.message).toContain('more than 50 ms of CPU time (timeoutMs)');
    expect(result.metrics.cpuTimeUs).toBeGreaterThanOrEqual(50_000);
  });

  it('reports the CPU time of a short run on the caller’s thread', async () => {
    const bytecode = await runtime().precompileHandler('return [3, 1, 2].sort()');
    const result = await runtime().executeCompiledHandler(bytecode, context());
    expect(successValue(result)).toEqual([1, 2, 3]);
    expect(result.metrics.cpuTimeUs).toBeGreaterThan(0);
    expect(result.metrics.durationUs).toBeGreaterThan(0);
  });
});

describe('the deadline of an execution', () => {
  // executionDeadlineMs may not be below the runtime's timeoutMs, but a per-call timeoutMs may be.
  const runtime = useRuntime({ maxInstances: 2, timeoutMs: 100, executionDeadlineMs: 150 });

  it('ends an endless loop at its deadline when its CPU budget is longer, saying so', async () => {
    const bytecode = await runtime().precompileHandler('while (true) {}');
    const error = failure(await runtime().executeCompiledHandler(bytecode, context(), 600_000));
    expect(error.code).toBe('TIMEOUT');
    expect(error.message).toContain('ran past its 150 ms deadline (executionDeadlineMs)');
  });
});
