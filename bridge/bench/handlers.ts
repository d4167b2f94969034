// The handlers every sandbox runs. Each is the body of a function of `$args`, written so that the
// same text is valid as a bridge handler (an async function body) and inside a peer's wrapper.

export interface BenchHandler {
  readonly name: string;
  readonly body: string;
  readonly args: unknown;
  readonly expected: unknown;
}

export const trivial: BenchHandler = {
  name: 'trivial',
  body: 'return $args.a + $args.b;',
  args: { a: 1, b: 2 },
  expected: 3,
};

export const fib: BenchHandler = {
  name: 'fib(24)',
  body: 'function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); } return fib($args.n);',
  args: { n: 24 },
  expected: 46368,
};

export const json: BenchHandler = {
  name: 'JSON round trips',
  body: `
    const rows = [];
    for (let i = 0; i < 2000; i++) rows.push({ id: i, name: 'row ' + i, tags: ['a', 'b', String(i % 7)], score: i * 1.5 });
    let total = 0;
    for (let round = 0; round < 5; round++) {
      const copy = JSON.parse(JSON.stringify(rows));
      for (const row of copy) total += row.score + row.tags.length;
    }
    return total;`,
  args: {},
  expected: 15_022_500,
};

/** Wraps a handler body for sandboxes that evaluate a script: a call with the args inlined. */
export function asScript(handler: BenchHandler, args: unknown = handler.args): string {
  return `(function ($args) {\n${handler.body}\n})(${JSON.stringify(args)})`;
}
