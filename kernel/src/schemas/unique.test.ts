import { Ajv } from 'ajv';
import { createAjv } from './ajv.js';
import { canonicalJson, firstDuplicate } from './unique.js';

describe('linear uniqueItems', () => {
  it('writes equal JSON values as equal text, whatever the key order', () => {
    expect(canonicalJson({ b: [1, { d: 1, c: 2 }], a: null })).toBe('{"a":null,"b":[1,{"c":2,"d":1}]}');
    expect(canonicalJson(JSON.parse('1.0'))).toBe(canonicalJson(1));
    expect(canonicalJson(-0)).toBe(canonicalJson(0));
    expect(canonicalJson('1')).not.toBe(canonicalJson(1));
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
    expect(canonicalJson({ a: 1 })).not.toBe(canonicalJson({ a: 1, b: 1 }));
  });

  it('finds the first duplicate pair', () => {
    expect(firstDuplicate([1, 2, 3])).toBeUndefined();
    expect(firstDuplicate([{ a: 1, b: 2 }, 'x', { b: 2, a: 1 }])).toEqual([0, 2]);
  });

  it("agrees with Ajv's own uniqueItems on the same inputs", () => {
    const ours = createAjv().compile({ type: 'array', uniqueItems: true });
    const theirs = new Ajv({ strict: false }).compile({ type: 'array', uniqueItems: true });
    const cases: unknown[][] = [
      [],
      [1, '1', true, null, [], {}],
      [1, 1.0],
      [0, -0],
      [{ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }],
      [
        { a: 1, b: 2 },
        { b: 2, a: 1 },
      ],
      [
        [1, 2],
        [2, 1],
      ],
      [{ a: null }, {}],
      ['a', 'b', 'a'],
    ];
    for (const items of cases) expect(ours(items)).toBe(theirs(items));
  });

  it('checks 20,000 distinct objects', () => {
    const items = Array.from({ length: 20_000 }, (_, i) => ({ a: i % 7, b: [i % 3], c: `k${i}` }));
    const validate = createAjv().compile({ type: 'array', uniqueItems: true });
    expect(validate(items)).toBe(true);
    expect(validate([...items, { c: 'k5', b: [2], a: 5 }])).toBe(false);
    expect(validate.errors?.[0]).toMatchObject({ keyword: 'uniqueItems', instancePath: '' });
  });
});
