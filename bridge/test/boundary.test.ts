// Values at the boundary between Node and the sandbox: whatever a handler returns or an
// extension answers either converts faithfully or ends in a clear error, never an exception in
// Node, a parked leftover or a changed prototype.
import { context, failure, successValue, suspension, useRuntime } from './support.js';

const kv = {
  capabilities: ['ext:kv', 'state:read:*', 'state:write:*', 'events:emit:*'],
  extensionRegistry: { kv: ['get'] },
};

describe('values crossing the boundary', () => {
  const runtime = useRuntime({ maxInstances: 2 });

  it('turns integers beyond 2^53 into numbers, as JSON would, so the result always serialises', async () => {
    const result = await runtime().executeHandler(
      "$state.big = 2 ** 64; $emit('e', { n: 9007199254740993 }); return [2 ** 70, -(2 ** 63)]",
      context(kv),
    );
    const value = successValue(result) as unknown[];
    expect(value.every((n) => typeof n === 'number')).toBe(true);
    expect(typeof JSON.parse(result.stateMutations[0]!.valueJson!)).toBe('number');
    expect(() => JSON.stringify(result)).not.toThrow();
  });

  it('keeps a "__proto__" key an own property of the Node-side object', async () => {
    const result = await runtime().executeHandler(
      'return JSON.parse(\'{"__proto__": {"polluted": true}, "a": 1}\')',
      context(),
    );
    const value = successValue(result) as Record<string, unknown>;
    // An ordinary object (its prototype is Object.prototype of the realm that made it) with an
    // own "__proto__" key, not an object whose prototype the handler chose.
    expect(Object.getPrototypeOf(Object.getPrototypeOf(value))).toBeNull();
    expect(Object.prototype.hasOwnProperty.call(value, '__proto__')).toBe(true);
    expect('polluted' in value).toBe(false);
    expect(Object.keys(value)).toEqual(['__proto__', 'a']);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('refuses arguments nested deeper than the sandbox takes with RESOURCE_LIMIT, before running', async () => {
    const deep = `${'['.repeat(200)}1${']'.repeat(200)}`;
    const result = await runtime().executeHandler('return 1', context({ argsJson: Buffer.from(deep) }));
    expect(failure(result)).toMatchObject({
      code: 'RESOURCE_LIMIT',
      message: expect.stringContaining('nested'),
    });
    const fine = await runtime().executeHandler(
      'return $args.n',
      context({ argsJson: Buffer.from('{"n": 3}') }),
    );
    expect(successValue(fine)).toBe(3);
  });

  it('gives a handler a catchable error for an extension value it cannot take, never a parked leftover', async () => {
    const code = "try { return await $ext.kv.get('x') } catch (e) { return 'caught: ' + e.message }";
    const parked = suspension(await runtime().executeHandler(code, context(kv)));
    const deep = `${'['.repeat(300)}1${']'.repeat(300)}`;
    const done = await runtime().resumeHandler(parked.suspensionId, { success: true, valueJson: deep });
    expect(successValue(done)).toEqual(expect.stringContaining('caught: the extension'));
    expect(runtime().getStats().suspendedInstances).toBe(0);
    const again = suspension(await runtime().executeHandler(code, context(kv)));
    const taken = await runtime().resumeHandler(again.suspensionId, {
      success: true,
      valueJson: '{"ok":[1,2]}',
    });
    expect(successValue(taken)).toEqual({ ok: [1, 2] });
  });

  it('cancels a parked handler, freeing its instance at once', async () => {
    const parked = suspension(await runtime().executeHandler("return await $ext.kv.get('x')", context(kv)));
    expect(runtime().getStats().suspendedInstances).toBe(1);
    expect(runtime().cancelHandler(parked.suspensionId)).toBe(true);
    expect(runtime().cancelHandler(parked.suspensionId)).toBe(false);
    expect(runtime().getStats().suspendedInstances).toBe(0);
    await expect(runtime().resumeHandler(parked.suspensionId, { success: true })).rejects.toMatchObject({
      code: 'SUSPENSION_NOT_FOUND',
      message: expect.stringContaining('cancelled'),
    });
  });
});
