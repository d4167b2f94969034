// What the panel log ring costs a trigger (make bench-kernel, BENCH_ONLY=logs): trigger throughput
// of a trivial handler, with and without a console.log line, on kernels with the ring off
// (PANEL_LOG_LINES=0: lines only in the result and the kernel's log) and on (the defaults), on the
// embedded store and on Redis. All kernels run side by side. Each comparison is measured in pairs
// of short slices, ring off and ring on back to back (the order alternating), so that the load of
// a shared machine, which swings by far more than the effect measured, falls on both sides of a
// pair alike; the figure is the median of the pairs' ratios. `return 1` writes no line, so its
// ratio shows what the machine's noise alone amounts to.

import autocannon from 'autocannon';
import { startRedis } from '../src/testing/redis-server.js';
import { type Child, startKernel } from './processes.js';

const seconds = Number(process.env.BENCH_LOG_SECONDS ?? 1);
const pairs = Number(process.env.BENCH_LOG_PAIRS ?? 15);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);

function progress(message: string): void {
  process.stderr.write(`  .. ${message}\n`);
}

const TOOLS = {
  quiet: { handler: 'return 1' },
  logs: { handler: "console.log('hello', 1); return 1" },
};

interface Target {
  readonly store: string;
  readonly ring: boolean;
  readonly tool: keyof typeof TOOLS;
  readonly url: string;
  readonly samples: number[];
  errors: number;
}

async function measure(target: Target, duration: number): Promise<void> {
  const result = await autocannon({
    url: target.url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
    connections,
    duration,
  });
  target.samples.push(result.requests.average);
  target.errors += result.errors + result.timeouts + result.non2xx;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};

export async function logsBenchmark(): Promise<string[]> {
  progress('log ring: starting Redis and four kernels (embedded and Redis, ring off and on)');
  const redis = await startRedis();
  const kernels: Child[] = [];
  const targets: Target[] = [];
  const ratios = new Map<Target, number[]>();
  const find = (store: string, ring: boolean, tool: string): Target =>
    targets.find((t) => t.store === store && t.ring === ring && t.tool === tool)!;
  try {
    for (const store of ['embedded', 'redis'] as const) {
      for (const ring of [false, true]) {
        const kernel = await startKernel({
          ...(store === 'redis' ? { STORE_URL: redis.url, STORE_KEY_PREFIX: `bench-logs-${ring}:` } : {}),
          ...(ring ? {} : { PANEL_LOG_LINES: '0' }),
        });
        kernels.push(kernel);
        const created = await fetch(`${kernel.url}/panels`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ title: 'Log bench', tools: TOOLS }),
        });
        const { id } = (await created.json()) as { id: string };
        for (const tool of Object.keys(TOOLS) as (keyof typeof TOOLS)[])
          targets.push({
            store,
            ring,
            tool,
            url: `${kernel.url}/panels/${id}/trigger/${tool}`,
            samples: [],
            errors: 0,
          });
      }
    }
    progress('warming every configuration up (2 s each)');
    for (const target of targets) await measure(target, 2);
    for (const target of targets) {
      target.samples.length = 0;
      target.errors = 0;
    }
    for (const store of ['embedded', 'redis'])
      for (const tool of Object.keys(TOOLS)) {
        const off = find(store, false, tool);
        const on = find(store, true, tool);
        progress(`${store}, ${tool}: ${pairs} pairs of ${seconds} s slices, ring off and on`);
        for (let pair = 0; pair < pairs; pair += 1) {
          for (const target of pair % 2 === 0 ? [off, on] : [on, off]) await measure(target, seconds);
          ratios.set(on, [...(ratios.get(on) ?? []), on.samples.at(-1)! / off.samples.at(-1)!]);
        }
      }
  } finally {
    await Promise.all(kernels.map((kernel) => kernel.stop()));
    await redis.stop();
  }
  const rows = targets.map((target) => {
    const paired = ratios.get(target);
    const sorted = [...target.samples].sort((a, b) => a - b);
    return `| ${target.store} | ${target.ring ? 'on (200 lines, 256 KiB)' : 'off (`PANEL_LOG_LINES=0`)'} | ${target.tool === 'quiet' ? '`return 1`' : "`console.log('hello', 1); return 1`"} | ${median(target.samples).toFixed(0)} | ${sorted[0]!.toFixed(0)}–${sorted.at(-1)!.toFixed(0)} | ${paired === undefined ? '—' : `**${(median(paired) * 100).toFixed(1)} %**`} | ${target.errors} |`;
  });
  return [
    `### Log ring cost per trigger (autocannon, ${connections} connections, ${pairs} pairs of ${seconds} s slices per comparison, POST \`{}\`)`,
    '',
    '| store | ring | handler | req/s (median of slices) | slices (min–max) | ring on / off (median of pairs) | errors |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
    'Target: the ring on within 5 % of the ring off, for the same handler and store (a handler that writes no line sends nothing to the ring).',
    '',
  ];
}
