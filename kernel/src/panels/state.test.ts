import { applyMutations } from './state.js';

describe('applyMutations', () => {
  it('applies sets and deletes in order', () => {
    const state: Record<string, unknown> = { count: 0, stale: true };
    applyMutations(state, [
      { key: 'count', value: 1, operation: 'set' },
      { key: 'stale', operation: 'delete' },
      { key: 'count', value: 2, operation: 'set' },
      { key: 'items', value: [1, 2], operation: 'set' },
    ]);
    expect(state).toEqual({ count: 2, items: [1, 2] });
  });

  it('stores a set without a value as null, as JSON would', () => {
    const state: Record<string, unknown> = {};
    applyMutations(state, [{ key: 'x', operation: 'set' }]);
    expect(JSON.stringify(state)).toBe('{"x":null}');
  });

  it('keeps "__proto__" an ordinary key', () => {
    const state: Record<string, unknown> = {};
    applyMutations(state, [{ key: '__proto__', value: { polluted: true }, operation: 'set' }]);
    expect(Object.getPrototypeOf(state)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(JSON.parse(JSON.stringify(state))).toEqual(JSON.parse('{"__proto__":{"polluted":true}}'));
  });
});
