import { ceilMiB, floorMiB, parseQuantity } from './quantity.js';

describe('parseQuantity', () => {
  it.each([
    ['256Mi', 256 * 2 ** 20],
    ['1Gi', 2 ** 30],
    ['1.5Gi', 1.5 * 2 ** 30],
    ['500M', 500e6],
    ['1G', 1e9],
    ['250m', 0.25],
    ['1', 1],
    ['128974848', 128974848],
    ['1e3', 1000],
    ['12E', 12e18],
    ['.5Ki', 512],
  ])('%s is %d', (input, expected) => {
    expect(parseQuantity(input)).toBeCloseTo(expected);
  });

  it('accepts numbers as they are', () => {
    expect(parseQuantity(2)).toBe(2);
  });

  it.each(['', 'Mi', '1MiB', '1 Gi', 'abc', '1.2.3', '--1'])('rejects %j', (input) => {
    expect(parseQuantity(input)).toBeUndefined();
  });
});

describe('MiB rounding', () => {
  it('floors what can be counted on and ceils what must be paid for', () => {
    expect(floorMiB(1.5 * 2 ** 20)).toBe(1);
    expect(ceilMiB(1.5 * 2 ** 20)).toBe(2);
    expect(floorMiB(1e9)).toBe(953);
    expect(ceilMiB(1e9)).toBe(954);
  });
});
