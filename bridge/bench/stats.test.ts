import { formatNumber, markdownTable, quantile, scaled, summariseLatency } from './stats.js';

describe('quantile', () => {
  it('takes the nearest rank', () => {
    const samples = [5, 1, 4, 2, 3];
    expect(quantile(samples, 0.5)).toBe(3);
    expect(quantile(samples, 0)).toBe(1);
    expect(quantile(samples, 1)).toBe(5);
    expect(quantile(samples, 0.99)).toBe(5);
  });

  it('puts p99 of a hundred samples at the 99th', () => {
    const samples = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(samples, 0.99)).toBe(99);
  });

  it('is NaN without samples and refuses q outside [0, 1]', () => {
    expect(quantile([], 0.5)).toBeNaN();
    expect(() => quantile([1], 1.5)).toThrow(/within \[0, 1\]/);
  });

  it('does not reorder the caller’s array', () => {
    const samples = [3, 1, 2];
    quantile(samples, 0.5);
    expect(samples).toEqual([3, 1, 2]);
  });
});

describe('summariseLatency', () => {
  it('reports count, median and p99', () => {
    expect(summariseLatency([10, 20, 30, 40])).toEqual({ samples: 4, medianUs: 20, p99Us: 40 });
  });
});

describe('formatNumber', () => {
  it.each([
    [undefined, '–'],
    [Number.NaN, '–'],
    [3.14159, '3.14'],
    [42.42, '42.4'],
    [12345.6, '12,346'],
  ])('formats %p as %p', (value, text) => {
    expect(formatNumber(value)).toBe(text);
  });
});

describe('markdownTable', () => {
  it('renders a header, a rule and rows', () => {
    expect(markdownTable(['a', 'b'], [['1', '2']])).toBe('| a | b |\n| --- | --- |\n| 1 | 2 |');
  });
});

describe('scaled', () => {
  it('scales and keeps a floor', () => {
    expect(scaled(1000, 0.5)).toBe(500);
    expect(scaled(10, 0.01, 5)).toBe(5);
    expect(() => scaled(10, 0)).toThrow(/BENCH_SCALE/);
  });
});
