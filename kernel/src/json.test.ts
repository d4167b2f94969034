import { nestsDeeperThan } from './json.js';

describe('nestsDeeperThan', () => {
  const nested = (depth: number): unknown => {
    let value: unknown = 1;
    for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { v: value };
    return value;
  };

  it('counts arrays and objects, not scalars', () => {
    expect(nestsDeeperThan(1, 0)).toBe(false);
    expect(nestsDeeperThan({}, 0)).toBe(true);
    expect(nestsDeeperThan(nested(64), 64)).toBe(false);
    expect(nestsDeeperThan(nested(65), 64)).toBe(true);
  });

  it('handles values far deeper than the stack would allow', () => {
    expect(nestsDeeperThan(nested(200_000), 64)).toBe(true);
  });
});
