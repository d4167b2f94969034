// What the panel log ring costs a trigger (make bench-kernel, BENCH_ONLY=logs): trigger throughput
// of a trivial handler, with and without a console.log line, on kernels with the ring off
// (PANEL_LOG_LINES=0: lines only in the result and the kernel's log) and on (the defaults), on the
// embedded store and on Redis. All kernels run side by side. Each comparison is measured in pairs
// of short slices, ring off and ring on back to back (the order alternating), so that the load of
// a shared machine, which swings by far more than the effect measured, falls on both sides of a
// pair alike; the figure is the median of the pairs' ratios. `return 1` writes no line, so its
// ratio shows what the machine's noise alone amounts to.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import pino from 'pino';
import { ringLines, requestIdOf } from '../src/panels/execution-logs.js';
import { LogShipper } from '../src/panels/log-shipper.js';
import { EmbeddedStore } from '../src/store/embedded.js';
import { startRedis } from '../src/testing/redis-server.js';
import { type Child, startKernel } from './processes.js';
import { progress } from './store.js';

const seconds = Number(process.env.BENCH_LOG_SECONDS ?? 1);
const pairs = Number(process.env.BENCH_LOG_PAIRS ?? 15);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);

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

/**
 * The CPU one execution's line costs on its way to an embedded ring, in this process: what the
 * executor does once the execution ended (its request id, the ring's form of the line, the queue)
 * and the append itself. Free of the machine's swings, unlike a throughput ratio.
 */
async function cpuPerExecution(): Promise<number[]> {
  const logger = pino({ level: 'silent' });
  const directory = await mkdtemp(join(tmpdir(), 'nexus-bench-logs-'));
  const limits = {
    maxPanels: 10,
    maxStateBytes: 1 << 20,
    historyLength: 16,
    historyBytes: 1 << 20,
    revisions: 10,
    logLines: 200,
    logBytes: 256 * 1024,
    requestKeys: 256,
  };
  const store = new EmbeddedStore(directory, limits, logger, 'bench');
  await store.start();
  await store.create(
    {
      id: 'p',
      epoch: 'e',
      definition: '{"title":"t","tools":{}}',
      title: 't',
      tools: [],
      state: new Map(),
      createdAt: 'now',
    },
    60_000,
  );
  await store.admit('p');
  const shipper = new LogShipper(store, limits, logger);
  const requestLogger = logger.child({ requestId: 'b2c4a1e0-5d3f-4c2b-9a8e-7f6d5c4b3a21' });
  const lines = [{ level: 'info' as const, message: 'hello 1', atMs: 0.2 }];
  const executions = 100_000;
  const results: number[] = [];
  for (let round = 0; round < 5; round += 1) {
    const started = process.cpuUsage();
    for (let i = 0; i < executions; i += 1) {
      const requestId = requestIdOf(requestLogger);
      shipper.ship(
        'p',
        ringLines(lines, {
          tool: 't',
          kind: 'tool',
          startedAt: Date.now(),
          ...(requestId === undefined ? {} : { requestId }),
        }),
      );
      // Executions end one by one: let each append settle, as between requests.
      if (i % 16 === 15) await shipper.idle(1000);
    }
    await shipper.idle(1000);
    const used = process.cpuUsage(started);
    results.push((used.user + used.system) / executions);
  }
  await store.close();
  await rm(directory, { recursive: true, force: true });
  return results;
}

export async function logsBenchmark(): Promise<string[]> {
  progress('log ring: CPU per execution on the way to an embedded ring (in process)');
  const cpu = (await cpuPerExecution()).sort((a, b) => a - b);
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
    return `| ${target.store} | ${target.ring ? 'on (200 lines, 256 KiB)' : 'off (`PANEL_LOG_LINES=0`)'} | ${target.tool === 'quiet' ? '`return 1`' : "`console.log('hello', 1); return 1`"} | ${median(target.samples).toFixed(0)} | ${sorted.length === 0 ? '—' : `${sorted[0]!.toFixed(0)}–${sorted.at(-1)!.toFixed(0)}`} | ${paired === undefined ? '—' : `**${(median(paired) * 100).toFixed(1)} %**`} | ${target.errors} |`;
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
    `CPU one execution's line costs on its way to an embedded ring (request id, ring form, queue, append; in process, 5 rounds of 100,000): median **${median(cpu).toFixed(1)} µs** (${cpu[0]!.toFixed(1)}–${cpu.at(-1)!.toFixed(1)}).`,
    '',
  ];
}
