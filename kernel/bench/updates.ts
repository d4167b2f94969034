// Update propagation (make bench-kernel, BENCH_ONLY=updates): how long after a PUT /panels/:id is
// acknowledged each kernel of a fleet first runs the new code. Three kernels share one Redis;
// clients keep triggering a tool on every kernel (a few in flight each); the handler returns its
// code's name and Date.now() when it ran, so the first execution of the new code on each kernel
// is timed from the acknowledgement, on one clock. The peer figure is a trigger's own latency in
// the same run, with nothing being updated.

import { setTimeout as sleep } from 'node:timers/promises';
import { startRedis } from '../src/testing/redis-server.js';
import { type Child, startKernel } from './processes.js';
import { percentile, progress } from './store.js';

const UPDATES = Number(process.env.BENCH_UPDATES ?? 50);
const IN_FLIGHT_PER_KERNEL = Number(process.env.BENCH_IN_FLIGHT ?? 1);

function definition(code: number) {
  return {
    title: 'Propagation',
    tools: { which: { capabilities: [], handler: `return [${code}, Date.now()]` } },
  };
}

async function put(kernel: Child, id: string, body: unknown): Promise<void> {
  const response = await fetch(`${kernel.url}/panels/${id}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status >= 300) throw new Error(`PUT: ${response.status} ${await response.text()}`);
  await response.arrayBuffer();
}

async function which(kernel: Child, id: string): Promise<[number, number]> {
  const response = await fetch(`${kernel.url}/panels/${id}/trigger/which`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  const body = (await response.json()) as { returnValue?: [number, number] };
  if (body.returnValue === undefined) throw new Error(`trigger: ${response.status} ${JSON.stringify(body)}`);
  return body.returnValue;
}

const ms = (value: number): string => value.toFixed(1);

export async function updateBenchmark(): Promise<string[]> {
  progress('update propagation: 3 kernels on one Redis');
  const redis = await startRedis();
  const kernels: Child[] = [];
  try {
    for (let i = 0; i < 3; i += 1) kernels.push(await startKernel({ STORE_URL: redis.url }));
    const id = `propagation-${process.pid}`;
    await put(kernels[0]!, id, definition(0));

    // The peer: a trigger's latency, nothing being updated.
    const quiet: number[] = [];
    for (let i = 0; i < 300; i += 1) {
      const started = performance.now();
      await which(kernels[i % 3]!, id);
      quiet.push(performance.now() - started);
    }

    // Clients on every kernel record, per code, the earliest time an execution of it ran there.
    const firstRun = kernels.map(() => new Map<number, number>());
    let running = true;
    const loops = kernels.flatMap((kernel, k) =>
      Array.from({ length: IN_FLIGHT_PER_KERNEL }, async () => {
        while (running) {
          const [code, at] = await which(kernel, id);
          const seen = firstRun[k]!.get(code);
          if (seen === undefined || at < seen) firstRun[k]!.set(code, at);
        }
      }),
    );
    const acknowledged = new Map<number, number>();
    const latencies: number[] = [];
    for (let code = 1; code <= UPDATES; code += 1) {
      await put(kernels[code % 3]!, id, definition(code));
      acknowledged.set(code, Date.now());
      // Let every kernel run the new code before the next update.
      const deadline = Date.now() + 5000;
      while (firstRun.some((seen) => !seen.has(code)) && Date.now() < deadline) await sleep(2);
      if (code % 10 === 0) progress(`${code}/${UPDATES} updates`);
    }
    running = false;
    await Promise.all(loops);
    let missing = 0;
    for (const [code, at] of acknowledged) {
      for (const seen of firstRun) {
        const ran = seen.get(code);
        if (ran === undefined) missing += 1;
        else latencies.push(Math.max(0, ran - at));
      }
    }
    latencies.sort((a, b) => a - b);
    quiet.sort((a, b) => a - b);
    const p99 = percentile(latencies, 99);
    return [
      '### Update propagation',
      '',
      `\`BENCH_ONLY=updates make bench-kernel\`: 3 kernels on one Redis, ${UPDATES} updates of a panel's`,
      `definition (PUT on each kernel in turn) while ${IN_FLIGHT_PER_KERNEL} clients per kernel trigger its tool`,
      "without pause. Measured: from the PUT's acknowledgement to the first execution of the new code on",
      'each kernel (the handler reports when it ran; one clock), including that kernel loading and',
      "compiling the new definition. Peer: one trigger's round trip, nothing being updated.",
      '',
      '| | p50 | p99 | max | samples |',
      '|---|---|---|---|---|',
      `| acknowledgement → first run of the new code, per kernel | ${ms(percentile(latencies, 50))} ms | ${ms(p99)} ms | ${ms(latencies.at(-1) ?? NaN)} ms | ${latencies.length} |`,
      `| trigger round trip, no update (peer) | ${ms(percentile(quiet, 50))} ms | ${ms(percentile(quiet, 99))} ms | ${ms(quiet.at(-1) ?? NaN)} ms | ${quiet.length} |`,
      '',
      `Target p99 ≤ 50 ms: ${p99 <= 50 ? 'met' : 'missed'} (p99 ${ms(p99)} ms). Kernels that never ran a revision before the next update: ${missing}.`,
      '',
    ];
  } finally {
    await Promise.all(kernels.map((kernel) => kernel.stop()));
    await redis.stop();
  }
}
