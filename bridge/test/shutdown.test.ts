import { WasmRuntime, context, rejectionOf, returned } from './support.js';

describe('shutdown', () => {
  it('rejects every call after shutdown with RUNTIME_SHUT_DOWN', async () => {
    const runtime = new WasmRuntime({ maxInstances: 2 });
    const bytecode = await runtime.precompileHandler('return 1');
    const parked = await runtime.executeHandler(
      "return await $ext.kv.get('k')",
      context({ capabilities: ['ext:kv'], extensionRegistry: { kv: ['get'] } }),
    );
    expect(parked.status).toBe('suspended');
    await runtime.shutdown();

    const calls: [string, () => unknown][] = [
      ['executeHandler', () => runtime.executeHandler('return 1', context())],
      ['precompileHandler', () => runtime.precompileHandler('return 1')],
      ['executeCompiledHandler', () => runtime.executeCompiledHandler(bytecode, context())],
      [
        'resumeHandler',
        () => runtime.resumeHandler(parked.suspension!.suspensionId, { success: true, value: 1 }),
      ],
      ['getStats', () => runtime.getStats()],
      ['getMetrics', () => runtime.getMetrics()],
      ['ready', () => runtime.ready()],
    ];
    for (const [name, call] of calls) {
      const error = await rejectionOf(call);
      expect({ name, code: error.code }).toEqual({ name, code: 'RUNTIME_SHUT_DOWN' });
    }
  });

  it('lets executions already running finish before it resolves', async () => {
    const runtime = new WasmRuntime({ maxInstances: 2 });
    const running = runtime.executeHandler(
      'const end = Date.now() + 200; while (Date.now() < end) {} return "finished"',
      context(),
    );
    await runtime.shutdown();
    expect(returned(await running)).toBe('finished');
  });

  it('settles executions still queued for an instance when it is called', async () => {
    const runtime = new WasmRuntime({ maxInstances: 1 });
    const busy = runtime.executeHandler(
      'const end = Date.now() + 200; while (Date.now() < end) {} return 0',
      context(),
    );
    const queued = [1, 2, 3].map((i) => runtime.executeHandler(`return ${i}`, context()));
    await runtime.shutdown();
    const results = await Promise.all([busy, ...queued]);
    expect(results.map((r) => returned(r))).toEqual([0, 1, 2, 3]);
  });

  it('can be called twice', async () => {
    const runtime = new WasmRuntime({ maxInstances: 1 });
    await runtime.shutdown();
    await expect(runtime.shutdown()).resolves.toBeUndefined();
  });
});
