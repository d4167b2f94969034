// The panel store's benchmarks (make bench-kernel, printed as Markdown):
//   1. trigger throughput and latency, Redis vs embedded, one kernel, over 16 panels and on one
//      hot panel; then 3 kernels on one Redis in aggregate;
//   2. PATCH latency to subscribers on the triggering kernel vs on other kernels;
//   3. a resume storm: 1,000 WebSocket clients of 100 panels whose kernel gets SIGTERM;
//   4. a rolling restart of 3 kernels under a steady trigger load: acknowledged vs applied;
//   5. Redis memory per 1,000 panels;
//   6. the embedded store's crash window: acknowledgement to the change being on disk.

import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import WebSocket from 'ws';
import { startRedis, type TestRedis } from '../src/testing/redis-server.js';
import { type Child, startKernel } from './processes.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);

type Body = Record<string, unknown>;

/** A progress line on stderr (the figures go to stdout). */
export function progress(message: string): void {
  process.stderr.write(`  .. ${message}\n`);
}

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function post(url: string, body: unknown): Promise<Body> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status >= 300) throw new Error(`POST ${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as Body;
}

export const counter = {
  title: 'Counter',
  state: { count: 0 },
  tools: {
    inc: {
      capabilities: ['state:read:*', 'state:write:*'],
      handler: '$state.count = $state.count + 1; return $state.count',
    },
  },
};

async function panels(kernel: Child, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1) ids.push(String((await post(`${kernel.url}/panels`, counter)).id));
  return ids;
}

interface Load {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
}

/** autocannon over `ids`, each request to the next panel in turn. */
async function load(
  kernel: Child,
  ids: readonly string[],
  duration: number,
  conns = connections,
): Promise<Load> {
  let next = 0;
  const result = await autocannon({
    url: kernel.url,
    connections: conns,
    duration,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
        setupRequest: (request) => ({ ...request, path: `/panels/${ids[next++ % ids.length]!}/trigger/inc` }),
      },
    ],
  });
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

// One compiled sandbox module for every kernel of these benchmarks (each would compile it otherwise).
const cacheDir = await mkdtemp(join(tmpdir(), 'nexus-bench-store-cache-'));

const redisEnv = (redis: TestRedis, prefix: string): Record<string, string> => ({
  CACHE_DIR: cacheDir,
  STORE_URL: redis.url,
  STORE_KEY_PREFIX: prefix,
});

function row(label: string, result: Load): string {
  return `| ${label} | ${result.requestsPerSecond.toFixed(0)} | ${result.p50} | ${result.p99} | ${result.errors} |`;
}

async function throughput(redis: TestRedis): Promise<string[]> {
  const rows: string[] = [];
  const measure = async (label: string, env: Record<string, string>): Promise<Load[]> => {
    const kernel = await startKernel(env);
    try {
      const ids = await panels(kernel, 16);
      progress(`${label}: warming up, then ${seconds} s over 16 panels and ${seconds} s on one`);
      await load(kernel, ids, 3);
      const spread = await load(kernel, ids, seconds);
      const hot = await load(kernel, ids.slice(0, 1), seconds);
      rows.push(row(`${label}, 16 panels`, spread), row(`${label}, one hot panel`, hot));
      return [spread, hot];
    } finally {
      await kernel.stop();
    }
  };
  const [embedded, embeddedHot] = await measure('embedded', { CACHE_DIR: cacheDir });
  const [shared, sharedHot] = await measure('Redis', redisEnv(redis, 'bench-throughput:'));

  progress(`3 kernels on one Redis, ${seconds} s, each over its own 16 panels`);
  const kernels = await Promise.all([0, 1, 2].map(() => startKernel(redisEnv(redis, 'bench-fleet:'))));
  let aggregate = 0;
  try {
    const ids = await panels(kernels[0]!, 16);
    await Promise.all(kernels.map((kernel) => load(kernel, ids, 2, Math.ceil(connections / 3))));
    const results = await Promise.all(
      kernels.map((kernel) => load(kernel, ids, seconds, Math.ceil(connections / 3))),
    );
    aggregate = results.reduce((sum, result) => sum + result.requestsPerSecond, 0);
    const p99 = Math.max(...results.map((result) => result.p99));
    const errors = results.reduce((sum, result) => sum + result.errors, 0);
    rows.push(
      `| 3 kernels, one Redis, the same 16 panels (sum) | ${aggregate.toFixed(0)} | – | ${p99} (worst) | ${errors} |`,
    );
  } finally {
    await Promise.all(kernels.map((kernel) => kernel.stop()));
  }
  const ratio = (a: Load, b: Load) => `${((a.requestsPerSecond / b.requestsPerSecond) * 100).toFixed(0)} %`;
  return [
    `### Trigger throughput by store (autocannon, ${connections} connections, ${seconds} s, a read-modify-write handler)`,
    '',
    '| store, panels | req/s | p50 ms | p99 ms | errors |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    `Redis / embedded over 16 panels: **${ratio(shared!, embedded!)}** (target ≥ 60 %); on one hot panel: ` +
      `${ratio(sharedHot!, embeddedHot!)} — every segment of one panel holds its lease for two round trips, ` +
      'so a hot panel serialises on Redis latency. Everything shares the same 2 cores (kernels, Redis, autocannon).',
    '',
  ];
}

interface Subscriber {
  socket: WebSocket;
  version: number;
  epoch: string;
  versions: number[];
}

function subscribe(
  url: string,
  onPatch?: (subscriber: Subscriber, version: number) => void,
): Promise<Subscriber> {
  const socket = new WebSocket(url);
  const subscriber: Subscriber = { socket, version: -1, epoch: '', versions: [] };
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString('utf8')) as Body;
      if (message.type === 'CONNECTED') {
        subscriber.version = message.version as number;
        subscriber.epoch = message.epoch as string;
        resolve(subscriber);
      } else if (message.type === 'PATCH') {
        subscriber.version = message.version as number;
        subscriber.versions.push(subscriber.version);
        onPatch?.(subscriber, subscriber.version);
      }
    });
  });
}

async function patchLatency(redis: TestRedis): Promise<string[]> {
  const rounds = Number(process.env.BENCH_PATCH_ROUNDS ?? 200);
  progress(`PATCH latency: 3 kernels, 10 subscribers on each, ${rounds} triggers on the first`);
  const kernels = await Promise.all([0, 1, 2].map(() => startKernel(redisEnv(redis, 'bench-patch:'))));
  const sockets: WebSocket[] = [];
  try {
    const [id] = await panels(kernels[0]!, 1);
    const sent = new Map<number, number>();
    const local: number[] = [];
    const remote: number[] = [];
    for (const [index, kernel] of kernels.entries()) {
      for (let i = 0; i < 10; i += 1) {
        const subscriber = await subscribe(`${kernel.wsUrl}/panels/${id!}/ws`, (_, version) => {
          const at = sent.get(version);
          if (at !== undefined) (index === 0 ? local : remote).push(performance.now() - at);
        });
        sockets.push(subscriber.socket);
      }
    }
    for (let round = 1; round <= rounds; round += 1) {
      sent.set(round, performance.now());
      await post(`${kernels[0]!.url}/panels/${id!}/trigger/inc`, {});
      await sleep(5);
    }
    await sleep(500);
    local.sort((a, b) => a - b);
    remote.sort((a, b) => a - b);
    const line = (label: string, samples: number[]) =>
      `| ${label} | ${samples.length} | ${percentile(samples, 50).toFixed(2)} | ${percentile(samples, 99).toFixed(2)} | ${samples.at(-1)!.toFixed(2)} |`;
    return [
      '### PATCH latency by kernel (3 kernels on one Redis, 10 subscribers each, triggers on the first)',
      '',
      'From sending the HTTP trigger to a subscriber receiving its PATCH:',
      '',
      '| subscribers | samples | p50 ms | p99 ms | max ms |',
      '|---|---|---|---|---|',
      line('on the triggering kernel', local),
      line('on the other two kernels (through Redis pub/sub)', remote),
      '',
      `Target: p99 ≤ 15 ms at 10 subscribers per kernel (${Math.max(percentile(local, 99), percentile(remote, 99)) <= 15 ? 'met' : 'missed'}).`,
      '',
    ];
  } finally {
    for (const socket of sockets) socket.terminate();
    await Promise.all(kernels.map((kernel) => kernel.stop()));
  }
}

async function resumeStorm(redis: TestRedis): Promise<string[]> {
  const clients = Number(process.env.BENCH_STORM_CLIENTS ?? 1000);
  const panelCount = clients / 10;
  progress(`resume storm: ${clients} clients of ${panelCount} panels on one kernel, which then gets SIGTERM`);
  const env = { ...redisEnv(redis, 'bench-storm:'), WS_MAX_IN_FLIGHT: '64' };
  const doomed = await startKernel(env);
  const survivors = await Promise.all([0, 1].map(() => startKernel(env)));
  const sockets: WebSocket[] = [];
  try {
    const ids = await panels(doomed, panelCount);
    const subscribers: Subscriber[] = [];
    for (let i = 0; i < clients; i += 1) {
      const subscriber = await subscribe(`${doomed.wsUrl}/panels/${ids[i % panelCount]!}/ws`);
      subscribers.push(subscriber);
      sockets.push(subscriber.socket);
    }
    // Changes keep coming through the survivors during the storm, so a seam would show as a gap.
    let writing = true;
    const writer = (async () => {
      let n = 0;
      while (writing) {
        await post(`${survivors[n % 2]!.url}/panels/${ids[n % panelCount]!}/trigger/inc`, {}).catch(() => {});
        n += 1;
      }
    })();
    await sleep(500);
    const timeToLive: number[] = [];
    let resumed = 0;
    let snapshots = 0;
    const done = subscribers.map(
      (subscriber, index) =>
        new Promise<void>((resolve) => {
          subscriber.socket.once('close', () => {
            const closedAt = performance.now();
            const socket = new WebSocket(
              `${survivors[index % 2]!.wsUrl}/panels/${ids[index % panelCount]!}/ws?since=${subscriber.version}&epoch=${subscriber.epoch}`,
            );
            sockets.push(socket);
            socket.on('message', (data: Buffer) => {
              const message = JSON.parse(data.toString('utf8')) as Body;
              if (message.type === 'CONNECTED') {
                timeToLive.push(performance.now() - closedAt);
                if (message.resumed === true) resumed += 1;
                else snapshots += 1;
                resolve();
              } else if (message.type === 'PATCH') {
                subscriber.versions.push(message.version as number);
              }
            });
            socket.once('error', () => resolve());
          });
        }),
    );
    doomed.process.kill('SIGTERM');
    await Promise.race([Promise.all(done), sleep(30_000)]);
    await sleep(1000);
    writing = false;
    await writer;
    await sleep(500);
    const gaps = subscribers.filter((subscriber) =>
      subscriber.versions.some((version, i) => i > 0 && version !== subscriber.versions[i - 1]! + 1),
    ).length;
    timeToLive.sort((a, b) => a - b);
    return [
      `### Resume storm (${clients} WebSocket clients of ${panelCount} panels; their kernel gets SIGTERM)`,
      '',
      'Each client reconnects to one of two other kernels with `since` and `epoch` when its socket closes',
      '(the kernel closes them with 1001 spread over 3 s) while triggers keep changing the panels:',
      '',
      '| clients | resumed from history | full snapshot | with a gap | time to live p50 ms | p99 ms | max ms |',
      '|---|---|---|---|---|---|---|',
      `| ${clients} | ${resumed} | ${snapshots} | ${gaps} | ${percentile(timeToLive, 50).toFixed(1)} | ${percentile(timeToLive, 99).toFixed(1)} | ${(timeToLive.at(-1) ?? NaN).toFixed(1)} |`,
      '',
      'Targets: every client resumed from history, 0 gaps, p99 time to live ≤ 1 s.',
      '',
    ];
  } finally {
    for (const socket of sockets) socket.terminate();
    await Promise.all([doomed, ...survivors].map((kernel) => kernel.stop()));
  }
}

async function rollingRestart(redis: TestRedis): Promise<string[]> {
  const rate = Number(process.env.BENCH_ROLL_RATE ?? 200);
  progress(`rolling restart of 3 kernels under ${rate} triggers/s`);
  const env = { ...redisEnv(redis, 'bench-roll:'), SHUTDOWN_GRACE_MS: '5000' };
  const kernels: (Child | undefined)[] = await Promise.all([0, 1, 2].map(() => startKernel(env)));
  try {
    const ids = await panels(kernels[0]!, 16);
    const acknowledged = new Map<string, number>();
    let refused = 0;
    let sent = 0;
    let running = true;
    const inFlight = new Set<Promise<void>>();
    const generator = (async () => {
      const started = performance.now();
      while (running) {
        const due = Math.floor(((performance.now() - started) / 1000) * rate);
        while (sent < due) {
          const live = kernels.filter((kernel): kernel is Child => kernel !== undefined);
          const kernel = live[sent % live.length]!;
          const id = ids[sent % ids.length]!;
          sent += 1;
          const request = post(`${kernel.url}/panels/${id}/trigger/inc`, {}).then(
            (result) => {
              if (result.status === 'success') acknowledged.set(id, (acknowledged.get(id) ?? 0) + 1);
              else refused += 1;
            },
            () => {
              refused += 1;
            },
          );
          inFlight.add(request);
          void request.finally(() => inFlight.delete(request));
        }
        await sleep(2);
      }
    })();
    await sleep(2000);
    // As in a Deployment's rollout: the old kernel keeps getting requests while it drains (its
    // endpoint is removed a moment later), then it is gone until its replacement is up.
    for (let index = 0; index < 3; index += 1) {
      const old = kernels[index]!;
      await old.stop();
      kernels[index] = undefined;
      kernels[index] = await startKernel(env);
      await sleep(1500);
    }
    running = false;
    await generator;
    await Promise.all(inFlight);
    let applied = 0;
    let lost = 0;
    for (const id of ids) {
      const state = (await (await fetch(`${kernels[0]!.url}/panels/${id}/state`)).json()) as {
        state: { count: number };
      };
      applied += state.state.count;
      lost += Math.max(0, (acknowledged.get(id) ?? 0) - state.state.count);
    }
    const acked = [...acknowledged.values()].reduce((a, b) => a + b, 0);
    return [
      `### Rolling restart (3 kernels on one Redis, each replaced in turn, ${rate} triggers/s over 16 panels)`,
      '',
      '| sent | acknowledged | refused or failed (503 while draining, reset connections) | applied | lost acknowledged |',
      '|---|---|---|---|---|',
      `| ${sent} | ${acked} | ${refused} | ${applied} | **${lost}** |`,
      '',
      'Target: 0 lost acknowledged mutations. (Applied may exceed acknowledged: a request whose answer',
      'was cut by a restart can still have been applied; clients retry with care.)',
      '',
    ];
  } finally {
    await Promise.all(kernels.map((kernel) => kernel?.stop() ?? Promise.resolve()));
  }
}

async function redisMemory(redis: TestRedis): Promise<string[]> {
  const count = Number(process.env.BENCH_MEMORY_PANELS ?? 1000);
  progress(`Redis memory: ${count} counter panels, 10 triggers each`);
  const used = async () => Number(/used_memory:(\d+)/.exec(await redis.cli('INFO', 'memory'))?.[1]);
  await redis.cli('FLUSHALL');
  const before = await used();
  const kernel = await startKernel({ ...redisEnv(redis, 'bench-memory:'), MAX_PANELS: String(count + 10) });
  try {
    const ids = await panels(kernel, count);
    for (const id of ids)
      await Promise.all(Array.from({ length: 10 }, () => post(`${kernel.url}/panels/${id}/trigger/inc`, {})));
    const after = await used();
    const perThousand = ((after - before) / count) * 1000;
    return [
      '### Redis memory per 1,000 panels',
      '',
      `\`used_memory\` grew by ${((after - before) / 1024 / 1024).toFixed(1)} MiB for ${count} Counter panels after 10 triggers each`,
      `(definition, state, 10 history entries, index): **${(perThousand / 1024 / 1024).toFixed(2)} MiB per 1,000 panels**,`,
      `${(perThousand / 1000 / 1024).toFixed(1)} KiB per panel. A panel's worst case is bounded by MAX_STATE_BYTES +`,
      'STORE_HISTORY_BYTES + its definition (≤ BODY_LIMIT).',
      '',
    ];
  } finally {
    await kernel.stop();
  }
}

async function embeddedWindow(): Promise<string[]> {
  const samples = Number(process.env.BENCH_WINDOW_SAMPLES ?? 200);
  progress(`embedded crash window: ${samples} triggers, each followed until its change is on disk`);
  const dir = await mkdtemp(join(tmpdir(), 'nexus-bench-persist-'));
  const kernel = await startKernel({ CACHE_DIR: cacheDir, PERSIST_DIR: dir });
  try {
    const [id] = await panels(kernel, 1);
    const file = join(dir, `${id!}.json`);
    const windows: number[] = [];
    for (let i = 0; i < samples; i += 1) {
      const result = await post(`${kernel.url}/panels/${id!}/trigger/inc`, {});
      const acknowledgedAt = performance.now();
      const version = result.version as number;
      for (;;) {
        try {
          if ((JSON.parse(readFileSync(file, 'utf8')) as { version: number }).version >= version) break;
        } catch {
          // the rename may be in progress
        }
      }
      windows.push(performance.now() - acknowledgedAt);
    }
    windows.sort((a, b) => a - b);
    return [
      '### The embedded store’s crash window',
      '',
      'From a trigger being acknowledged to its change being in the panel’s file (fsynced and renamed),',
      `${samples} sequential triggers: what a SIGKILL (or an OOM kill) at the worst moment can lose.`,
      '',
      '| p50 ms | p99 ms | max ms |',
      '|---|---|---|',
      `| ${percentile(windows, 50).toFixed(2)} | ${percentile(windows, 99).toFixed(2)} | ${windows.at(-1)!.toFixed(2)} |`,
      '',
    ];
  } finally {
    await kernel.stop();
  }
}

export async function storeBenchmarks(only: ReadonlySet<string>): Promise<string[]> {
  const redis = await startRedis();
  const sections: string[][] = [];
  try {
    if (only.has('store-throughput')) sections.push(await throughput(redis));
    if (only.has('store-latency')) sections.push(await patchLatency(redis));
    if (only.has('store-storm')) sections.push(await resumeStorm(redis));
    if (only.has('store-roll')) sections.push(await rollingRestart(redis));
    if (only.has('store-memory')) sections.push(await redisMemory(redis));
    if (only.has('store-window')) sections.push(await embeddedWindow());
  } finally {
    await redis.stop();
  }
  return sections.flat();
}
