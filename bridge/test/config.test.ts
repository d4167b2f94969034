import { WasmRuntime, rejectionOf, MiB, returned } from './support.js';
import type { RuntimeConfig } from './support.js';

describe('RuntimeConfig validation', () => {
  // Each case names the field the message must mention and the offending value as printed.
  const invalid: { field: keyof RuntimeConfig; config: RuntimeConfig; shown: string }[] = [
    { field: 'maxInstances', config: { maxInstances: 0 }, shown: '0' },
    { field: 'maxInstances', config: { maxInstances: 1001 }, shown: '1001' },
    { field: 'maxInstances', config: { maxInstances: 2.5 }, shown: '2.5' },
    { field: 'minInstances', config: { minInstances: -1 }, shown: '-1' },
    { field: 'minInstances', config: { maxInstances: 2, minInstances: 3 }, shown: '3' },
    { field: 'memoryLimitBytes', config: { memoryLimitBytes: 64 * 1024 }, shown: '65536' },
    { field: 'memoryLimitBytes', config: { memoryLimitBytes: 2048 * MiB }, shown: '2147483648' },
    { field: 'timeoutMs', config: { timeoutMs: 0 }, shown: '0' },
    { field: 'timeoutMs', config: { timeoutMs: -5 }, shown: '-5' },
    { field: 'maxHostCalls', config: { maxHostCalls: -1 }, shown: '-1' },
    { field: 'maxStateMutations', config: { maxStateMutations: -1 }, shown: '-1' },
    { field: 'maxEvents', config: { maxEvents: 1.5 }, shown: '1.5' },
  ];

  it.each(invalid)('rejects $field = $shown with INVALID_CONFIG naming the field and value', async (c) => {
    const error = await rejectionOf(() => new WasmRuntime(c.config));
    expect(error.code).toBe('INVALID_CONFIG');
    expect(error.message).toContain(c.field);
    expect(error.message).toContain(c.shown);
  });

  it('rejects a cacheDir that cannot be created with INVALID_CONFIG naming it', async () => {
    const error = await rejectionOf(() => new WasmRuntime({ cacheDir: '/dev/null/cache' }));
    expect(error.code).toBe('INVALID_CONFIG');
    expect(error.message).toContain('cacheDir');
  });

  it('names the accepted range for memoryLimitBytes below the guest minimum', async () => {
    const error = await rejectionOf(() => new WasmRuntime({ memoryLimitBytes: 1024 }));
    expect(error.code).toBe('INVALID_CONFIG');
    // The range is given as numbers, so the user learns the minimum without reading the source.
    expect(error.message).toMatch(/\d{6,}/);
  });

  it('rejects a value of the wrong type with an error naming the field', async () => {
    const error = await rejectionOf(
      () => new WasmRuntime({ maxInstances: 'ten' } as unknown as RuntimeConfig),
    );
    expect(error.message).toContain('maxInstances');
  });

  it('returns at once and lets calls made before ready() wait for the engine', async () => {
    const runtime = new WasmRuntime({ maxInstances: 1 });
    try {
      const early = runtime.executeHandler('return "early"', {
        panelId: 'p',
        handlerName: 'h',
        stateSnapshot: {},
        args: {},
        capabilities: [],
      });
      await expect(runtime.ready()).resolves.toBeUndefined();
      expect(returned(await early)).toBe('early');
    } finally {
      await runtime.shutdown();
    }
  });

  it('applies the documented defaults', async () => {
    const runtime = new WasmRuntime();
    try {
      const stats = runtime.getStats();
      expect(stats.maxInstances).toBe(10);
      expect(stats.activeInstances).toBe(0);
      expect(stats.suspendedInstances).toBe(0);
    } finally {
      await runtime.shutdown();
    }
  });

  it('accepts the limits of every documented range', async () => {
    const runtime = new WasmRuntime({
      maxInstances: 1000,
      minInstances: 0,
      memoryLimitBytes: 1024 * MiB,
      timeoutMs: 1,
      maxHostCalls: 1,
      maxStateMutations: 0,
      maxEvents: 0,
    });
    try {
      expect(runtime.getStats().maxInstances).toBe(1000);
    } finally {
      await runtime.shutdown();
    }
  });
});
