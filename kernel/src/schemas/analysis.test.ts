import { analyseSchema } from './analysis.js';
import { MAX_EVALUATIONS_PER_VALUE } from './limits.js';

const refused = (schema: unknown) => analyseSchema(schema).problems;

describe('analyseSchema', () => {
  it('accepts honest schemas: records, recursive trees, a JSON value by anyOf over types', () => {
    const honest = [
      {
        type: 'object',
        properties: {
          by: { type: 'integer', minimum: 1 },
          note: { type: 'string', pattern: '^[a-z]{0,16}$' },
        },
      },
      {
        type: 'object',
        properties: { name: { type: 'string' }, children: { type: 'array', items: { $ref: '#' } } },
      },
      {
        $defs: {
          value: {
            anyOf: [
              { type: ['string', 'number', 'boolean', 'null'] },
              { type: 'array', items: { $ref: '#/$defs/value' } },
              { type: 'object', additionalProperties: { $ref: '#/$defs/value' } },
            ],
          },
        },
        $ref: '#/$defs/value',
      },
      // Branches that descend into different keys do not multiply.
      { anyOf: [{ properties: { left: { $ref: '#' } } }, { properties: { right: { $ref: '#' } } }] },
      { type: 'string', pattern: '^[\\p{L}\\d _-]+$' },
      { patternProperties: { '^x-[a-z]+$': { type: 'string' }, '^\\d{4}-\\d{2}$': { type: 'number' } } },
      { if: { properties: { kind: { const: 'a' } } }, then: { required: ['a'] }, else: { required: ['b'] } },
      { type: 'array', uniqueItems: true, items: { enum: ['EUR', 'USD', 'GBP', 'JPY'] } },
      true,
    ];
    for (const schema of honest) {
      const analysis = analyseSchema(schema);
      expect(analysis.problems).toEqual([]);
      expect(analysis.evaluationsPerValue).toBeLessThanOrEqual(16);
    }
  });

  it('bounds a tree schema by a constant per value, whatever the nesting', () => {
    const tree = { type: 'object', properties: { children: { type: 'array', items: { $ref: '#' } } } };
    // The `{$ref}` node and the schema it names: two per value at any depth.
    expect(analyseSchema(tree).evaluationsPerValue).toBe(2);
  });

  it('refuses combinators that multiply at each level, naming the combinator and its pointer', () => {
    const twice = { anyOf: [{ properties: { a: { $ref: '#' } } }, { properties: { a: { $ref: '#' } } }] };
    expect(refused(twice)).toEqual([{ path: '/', message: expect.stringContaining('`anyOf`') as string }]);
    const recursiveOneOf = {
      $defs: {
        n: {
          oneOf: [
            { type: 'array', items: { $ref: '#/$defs/n' } },
            { type: 'array', items: { $ref: '#/$defs/n' } },
          ],
        },
      },
      $ref: '#/$defs/n',
    };
    expect(refused(recursiveOneOf)).toEqual([
      { path: '/$defs/n', message: expect.stringContaining('`oneOf`') as string },
    ]);
    const allOfTwice = { properties: { x: { allOf: [{ $ref: '#' }, { $ref: '#' }] } } };
    expect(refused(allOfTwice)).toEqual([
      { path: '/properties/x', message: expect.stringContaining('`allOf`') as string },
    ]);
  });

  it('refuses fan-out and nesting of combinators on one value beyond the bound', () => {
    let nested: unknown = { type: 'string' };
    // allOf of two copies, ten levels deep: 2^10 schemas on one value, no recursion needed.
    for (let i = 0; i < 10; i++) nested = { allOf: [nested, nested] };
    expect(refused(nested)).toEqual([
      {
        path: expect.any(String) as string,
        message: expect.stringContaining(`more than ${MAX_EVALUATIONS_PER_VALUE}`) as string,
      },
    ]);
    const wide = { anyOf: Array.from({ length: MAX_EVALUATIONS_PER_VALUE + 1 }, () => ({ type: 'string' })) };
    expect(refused(wide)).toEqual([{ path: '/', message: expect.stringContaining('`anyOf`') as string }]);
  });

  it('refuses $ref cycles that never descend into the value', () => {
    expect(refused({ $ref: '#' })).toEqual([
      { path: '/', message: expect.stringContaining('$ref cycle') as string },
    ]);
    const mutual = {
      $defs: { a: { $ref: '#/$defs/b' }, b: { anyOf: [{ $ref: '#/$defs/a' }] } },
      $ref: '#/$defs/a',
    };
    expect(refused(mutual)).toEqual([
      { path: '/$defs/a', message: expect.stringContaining('$ref cycle') as string },
    ]);
    const throughNot = { properties: { x: { not: { $ref: '#/properties/x' } } } };
    expect(refused(throughNot)).toEqual([
      { path: '/properties/x', message: expect.stringContaining('$ref cycle') as string },
    ]);
  });

  it('refuses patterns the linear-time engine cannot run, with the pattern and its pointer', () => {
    const problems = refused({
      properties: { a: { pattern: '^(?=x)x$' }, b: { pattern: '(?<=a)b' }, c: { pattern: '(a)\\1' } },
      patternProperties: { '(?<n>a)\\k<n>': {} },
    });
    expect(problems.map((problem) => problem.path).sort()).toEqual([
      '/patternProperties/(?<n>a)\\k<n>',
      '/properties/a/pattern',
      '/properties/b/pattern',
      '/properties/c/pattern',
    ]);
    for (const problem of problems) expect(problem.message).toMatch(/^pattern "/);
    // A catastrophic pattern for a backtracking engine is linear on RE2: accepted.
    expect(refused({ pattern: '^(a+)+$' })).toEqual([]);
    expect(refused({ pattern: '(' })).toEqual([
      { path: '/pattern', message: expect.stringContaining('not a valid regular expression') as string },
    ]);
  });

  it('refuses references it cannot follow and $id inside the schema', () => {
    expect(refused({ $ref: 'http://example.org/s.json' })).toEqual([
      { path: '/$ref', message: expect.stringContaining('only references inside the schema') as string },
    ]);
    expect(refused({ properties: { a: { $id: 'a.json' } } })).toEqual([
      { path: '/properties/a/$id', message: expect.stringContaining('$id') as string },
    ]);
    expect(refused({ $ref: '#/$defs/missing' })).toEqual([
      { path: '/$ref', message: expect.stringContaining('does not name a schema') as string },
    ]);
  });

  it('weighs large enums by their size (each value is a deep comparison)', () => {
    const codes = Array.from({ length: 2000 }, (_, i) => `code-${i}`);
    const analysis = analyseSchema({ type: 'array', items: { enum: codes } });
    expect(analysis.problems).toEqual([]);
    expect(analysis.evaluationsPerValue).toBeGreaterThan(100);
    // The same enum applied twice per level through recursion is refused.
    expect(
      refused({ anyOf: [{ enum: codes }, { items: { $ref: '#' } }, { items: { $ref: '#' } }] }),
    ).not.toEqual([]);
  });
});
