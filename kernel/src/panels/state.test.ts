import { applied, entriesOf, mutationsText, patchFrame, stateText, storedMutations } from './state.js';

describe('panel state as JSON text per key', () => {
  it('turns the sandbox mutations into the store’s and applies them in order', () => {
    const stored = storedMutations([
      { key: 'count', value: 1, operation: 'set' },
      { key: 'stale', operation: 'delete' },
      { key: 'count', value: 2, operation: 'set' },
      { key: 'items', value: [1, 2], operation: 'set' },
      { key: 'unset', operation: 'set' },
    ]);
    const next = applied(entriesOf({ count: 0, stale: true }), stored);
    expect(JSON.parse(stateText(next))).toEqual({ count: 2, items: [1, 2], unset: null });
  });

  it('keeps "__proto__" an ordinary key', () => {
    const entries = applied(
      new Map(),
      storedMutations([{ key: '__proto__', value: { polluted: true }, operation: 'set' }]),
    );
    const text = stateText(entries);
    expect(text).toBe('{"__proto__":{"polluted":true}}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses values without a JSON form', () => {
    expect(() => storedMutations([{ key: 'big', value: 10n, operation: 'set' }])).toThrow();
  });

  it('encodes PATCH frames around the version the store assigns', () => {
    const mutations = storedMutations([
      { key: 'a', value: 'x', operation: 'set' },
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
