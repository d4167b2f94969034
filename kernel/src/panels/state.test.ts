import { applied, entriesOf, mutationsText, patchFrame, stateText, storedMutations } from './state.js';

describe('panel state as JSON text per key', () => {
  it('turns the sandbox mutations into the store’s net change and applies it', () => {
    const before = entriesOf({ count: 0, stale: true });
    const stored = storedMutations(before, [
      { key: 'count', valueJson: '1', operation: 'set' },
      { key: 'stale', operation: 'delete' },
      { key: 'count', valueJson: '2', operation: 'set' },
      { key: 'items', valueJson: '[1,2]', operation: 'set' },
      { key: 'unset', operation: 'set' },
    ]);
    expect(stored).toEqual([
      { key: 'stale' },
      { key: 'count', json: '2' },
      { key: 'items', json: '[1,2]' },
      { key: 'unset', json: 'null' },
    ]);
    const next = applied(before, stored);
    expect(JSON.parse(stateText(next))).toEqual({ count: 2, items: [1, 2], unset: null });
  });

  it('writes nothing for keys a segment created and deleted again, however large or often', () => {
    const big = JSON.stringify('x'.repeat(1 << 20));
    const mutations = [];
    for (let i = 0; i < 15; i++) mutations.push({ key: 'a', valueJson: big, operation: 'set' as const });
    mutations.push({ key: 'a', operation: 'delete' as const });
    expect(storedMutations(new Map(), mutations)).toEqual([]);
    // A key the state had: its delete is the net change, without the values written before it.
    expect(storedMutations(new Map([['a', '1']]), mutations)).toEqual([{ key: 'a' }]);
    // The last write wins: one value per key.
    expect(
      storedMutations(new Map(), [...mutations, { key: 'a', valueJson: '7', operation: 'set' }]),
    ).toEqual([{ key: 'a', json: '7' }]);
  });

  it('keeps "__proto__" an ordinary key', () => {
    const entries = applied(
      new Map(),
      storedMutations(new Map(), [{ key: '__proto__', valueJson: '{"polluted":true}', operation: 'set' }]),
    );
    const text = stateText(entries);
    expect(text).toBe('{"__proto__":{"polluted":true}}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('encodes PATCH frames around the version the store assigns', () => {
    const mutations = storedMutations(new Map([['b', '1']]), [
      { key: 'a', valueJson: '"x"', operation: 'set' },
      { key: 'b', operation: 'delete' },
    ]);
    expect(JSON.parse(mutationsText(mutations))).toEqual([
      { key: 'a', value: 'x', operation: 'set' },
      { key: 'b', operation: 'delete' },
    ]);
    const { prefix, suffix } = patchFrame('p"1', mutations);
    expect(JSON.parse(`${prefix}7${suffix}`)).toEqual({
      type: 'PATCH',
      panelId: 'p"1',
      version: 7,
      mutations: [
        { key: 'a', value: 'x', operation: 'set' },
        { key: 'b', operation: 'delete' },
      ],
    });
  });
});
