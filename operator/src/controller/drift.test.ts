import { applyReason, comparable, firstDifference, isSubset } from './drift.js';

describe('isSubset', () => {
  it('ignores fields the live object has and we do not set', () => {
    expect(isSubset({ a: 1, b: { c: 'x' } }, { a: 1, b: { c: 'x', d: 2 }, e: 3 })).toBe(true);
  });

  it('sees changed values, missing fields and arrays of another length', () => {
    expect(isSubset({ a: 1 }, { a: 2 })).toBe(false);
    expect(isSubset({ a: 1 }, {})).toBe(false);
    expect(isSubset({ a: [1, 2] }, { a: [1] })).toBe(false);
    expect(isSubset({ a: [{ x: 1 }] }, { a: [{ x: 1, y: 2 }] })).toBe(true);
  });

  it('treats zero values the API server omits as present', () => {
    expect(
      isSubset({ probe: { initialDelaySeconds: 0, flag: false, s: '', list: [], o: {} } }, { probe: {} }),
    ).toBe(true);
    expect(isSubset({ replicas: 0 }, { replicas: 1 })).toBe(false);
  });
});

describe('applyReason', () => {
  const desired = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'x', annotations: { 'nexus.dev/applied-hash': 'h1' } },
    data: { A: '1' },
  };

  it('creates what is missing and leaves alone what matches (list items carry no kind)', () => {
    expect(applyReason(desired, undefined)).toBe('create');
    expect(applyReason(desired, comparable(desired))).toBe('none');
  });

  it('tells an outside edit (same hash) from a change of ours (new hash)', () => {
    const edited = { ...comparable(desired), data: { A: '2' } };
    expect(applyReason(desired, edited)).toBe('repair');
    const older = {
      metadata: { name: 'x', annotations: { 'nexus.dev/applied-hash': 'h0' } },
      data: { A: '0' },
    };
    expect(applyReason(desired, older)).toBe('update');
  });

  it('names the first field that differs', () => {
    expect(firstDifference(comparable(desired), { ...comparable(desired), data: { A: '2' } })).toBe(
      '.data.A',
    );
    expect(firstDifference(comparable(desired), comparable(desired))).toBeUndefined();
  });
});

describe('isSubset and renamed fields', () => {
  it("matches client-node's _from against a watched object's from", () => {
    const desired = { spec: { ingress: [{ _from: [{ podSelector: {} }], ports: [{ port: 6379 }] }] } };
    expect(
      isSubset(desired, { spec: { ingress: [{ from: [{ podSelector: {} }], ports: [{ port: 6379 }] }] } }),
    ).toBe(true);
    expect(
      isSubset(desired, { spec: { ingress: [{ _from: [{ podSelector: {} }], ports: [{ port: 6379 }] }] } }),
    ).toBe(true);
    expect(isSubset(desired, { spec: { ingress: [{ from: [], ports: [{ port: 6379 }] }] } })).toBe(false);
  });
});
