// Pure helpers for summarising measurements and printing them.

/** The q-quantile (0 ≤ q ≤ 1) of samples by the nearest-rank method; NaN for no samples. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  if (q < 0 || q > 1) throw new RangeError(`quantile must be within [0, 1], got ${q}`);
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1]!;
}

export interface LatencySummary {
  samples: number;
  medianUs: number;
  p99Us: number;
}

export function summariseLatency(samplesUs: readonly number[]): LatencySummary {
  return { samples: samplesUs.length, medianUs: quantile(samplesUs, 0.5), p99Us: quantile(samplesUs, 0.99) };
}

/** A figure with a sensible number of significant digits for a table cell. */
export function formatNumber(value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return '–';
  if (value >= 100) return Math.round(value).toLocaleString('en-US');
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** A GitHub-flavoured Markdown table. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** How many iterations to run: the default scaled by BENCH_SCALE, never fewer than `minimum`. */
export function scaled(count: number, scale: number, minimum = 1): number {
  if (!(scale > 0)) throw new RangeError(`BENCH_SCALE must be a positive number, got ${scale}`);
  return Math.max(minimum, Math.round(count * scale));
}
