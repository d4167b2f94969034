import { context, failure, successValue, useHostileRuntime, mutations } from './support.js';

// Strings a handler hands to the host besides values — event names, state keys, view types and
// ids, thrown messages — count like values do and have maxima; the process stays bounded.
describe('hostile: names, keys and messages', () => {
  const runtime = useHostileRuntime({ maxInstances: 2, maxEvents: 1000, maxStateMutations: 1000 });
  const all = ['state:read:*', 'state:write:*', 'events:emit:*', 'view:update:*'];
  const bomb = "const big = 'x'.repeat(4 * 1024 * 1024);";

  it.each([
    ['events with 4 MiB names', `${bomb} for (let i = 0; i < 100; i++) $emit(big + i);`],
    ['deletes of 4 MiB keys', `${bomb} for (let i = 0; i < 50; i++) delete $state[big + i];`],
    ['writes to 4 MiB keys', `${bomb} for (let i = 0; i < 50; i++) $state[big + i] = 1;`],
    [
      'reads of 4 MiB keys',
      `${bomb} let n = 0; for (let i = 0; i < 50; i++) n += $state[big + i] ? 1 : 0; return n;`,
    ],
    ['view commands with 4 MiB types', `${bomb} for (let i = 0; i < 50; i++) $view.custom(big + i, 'c');`],
    ['view commands with 4 MiB component ids', `${bomb} for (let i = 0; i < 50; i++) $view.focus(big + i);`],
  ])('ends %s with RESOURCE_LIMIT', async (_name, code) => {
    for (let round = 0; round < 3; round++) {
      const result = await runtime().executeHandler(code, context({ capabilities: all }));
      expect(failure(result)).toMatchObject({
        code: 'RESOURCE_LIMIT',
        message: expect.stringContaining('limit'),
      });
      expect(result.stateMutations).toHaveLength(0);
      expect(result.events).toHaveLength(0);
    }
  });

  it('cuts thrown messages and stacks to a few KiB', async () => {
    const result = await runtime().executeHandler(
      "const e = new Error('m'.repeat(2 << 20)); e.stack = 's'.repeat(2 << 20); throw e;",
      context(),
    );
    const error = failure(result);
    expect(error.code).toBe('EXECUTION_ERROR');
    expect(error.message.length).toBeLessThan(5000);
    expect((error.stack ?? '').length).toBeLessThan(17_000);
  });

  it('treats deleting a key that is not there as nothing', async () => {
    const result = await runtime().executeHandler(
      "delete $state.absent; delete $state.absent; return 'ok'",
      context({ capabilities: all, stateSnapshot: { kept: 1 } }),
    );
    expect(successValue(result)).toBe('ok');
    expect(mutations(result)).toEqual([]);
  });

  it('seeds Math.random anew for every execution, and offers crypto', async () => {
    const draws = await Promise.all(
      Array.from({ length: 20 }, () => runtime().executeHandler('return Math.random()', context())),
    );
    expect(new Set(draws.map(successValue)).size).toBe(20);
    const uuids = await runtime().executeHandler(
      'return [crypto.randomUUID(), crypto.randomUUID(), crypto.getRandomValues(new Uint8Array(8)).length]',
      context(),
    );
    const [a, b, n] = successValue(uuids) as [string, string, number];
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a).not.toBe(b);
    expect(n).toBe(8);
  });
});
