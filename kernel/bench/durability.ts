// What durability costs and what a failover costs (make bench-kernel, BENCH_ONLY=store-durability):
//   1. trigger throughput and latency of one kernel over 16 panels with one Redis (AOF
//      appendfsync everysec), one Redis (appendfsync always), and a primary with one replica
//      behind three Sentinels where a commit is acknowledged once the replica holds it (WAIT 1);
//   2. five kills (SIGKILL) of the primary of a primary with two replicas and three Sentinels
//      (down-after-milliseconds 1000) under a steady trigger stream from three kernels, each
//      increment sent with an Idempotency-Key and retried with it until answered: the time from
//      each kill to every kernel's next acknowledged trigger, and increments lost or applied twice.

import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { startRedis, startRedisSentinel, type TestRedisSentinel } from '../src/testing/redis-server.js';
import { type Child, startKernel } from './processes.js';
import { progress, counter } from './store.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);
const KILLS = Number(process.env.BENCH_KILLS ?? 5);
/** How long each failover may take before the benchmark gives up on it. */
const FAILOVER_BOUND_MS = 60_000;

type Body = Record<string, unknown>;

async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Body }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Body };
}

async function panels(kernel: Child, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const created = await post(`${kernel.url}/panels`, counter);
    if (created.status !== 201)
      throw new Error(`POST /panels: ${created.status} ${JSON.stringify(created.body)}`);
    ids.push(String(created.body.id));
  }
  return ids;
}

const cacheDir = await mkdtemp(join(tmpdir(), 'nexus-bench-durability-cache-'));

const sentinelEnv = (redis: TestRedisSentinel, prefix: string): Record<string, string> => ({
  CACHE_DIR: cacheDir,
  STORE_URL: redis.url,
  STORE_TOPOLOGY: 'sentinel',
  STORE_SENTINELS: redis.sentinels,
  STORE_SENTINEL_MASTER: redis.masterName,
  STORE_KEY_PREFIX: prefix,
});

async function throughputRow(label: string, env: Record<string, string>): Promise<string> {
  const kernel = await startKernel(env);
  try {
    const ids = await panels(kernel, 16);
    progress(`${label}: warming up, then ${seconds} s over 16 panels`);
    const run = async (duration: number) => {
      let next = 0;
      return autocannon({
        url: kernel.url,
        connections,
        duration,
        requests: [
          {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: '{}',
            setupRequest: (request) => ({
              ...request,
              path: `/panels/${ids[next++ % ids.length]!}/trigger/inc`,
            }),
          },
        ],
      });
    };
    await run(2);
    const result = await run(seconds);
    return `| ${label} | ${result.requests.average.toFixed(0)} | ${result.latency.p50} | ${result.latency.p99} | ${result.errors + result.timeouts + result.non2xx} |`;
  } finally {
    await kernel.stop();
  }
}

async function throughput(): Promise<string[]> {
  const rows: string[] = [];
  const everysec = await startRedis();
  try {
    rows.push(
      await throughputRow('one Redis, appendfsync everysec', {
        CACHE_DIR: cacheDir,
        STORE_URL: everysec.url,
      }),
    );
  } finally {
    await everysec.stop();
  }
  const always = await startRedis({ appendfsync: 'always' });
  try {
    rows.push(
      await throughputRow('one Redis, appendfsync always', { CACHE_DIR: cacheDir, STORE_URL: always.url }),
    );
  } finally {
    await always.stop();
  }
  const replicated = await startRedisSentinel({ replicas: 1 });
  try {
    rows.push(
      await throughputRow('primary + replica (Sentinel), WAIT 1', sentinelEnv(replicated, 'durability:')),
    );
  } finally {
    await replicated.stop();
  }
  return [
    `### Durability: what the acknowledgement costs (one kernel, 16 panels, ${connections} connections, ${seconds} s)`,
    '',
    '| store | triggers/s | p50 ms | p99 ms | errors |',
    '|---|---|---|---|---|',
    ...rows,
    '',
  ];
}

async function failovers(): Promise<string[]> {
  const redis = await startRedisSentinel({ replicas: 2 });
  const kernels: Child[] = [];
  try {
    for (let i = 0; i < 3; i += 1)
      kernels.push(await startKernel({ ...sentinelEnv(redis, 'failover:'), STORE_TIMEOUT_MS: '1000' }));
    const [id] = await panels(kernels[0]!, 1);
    const acknowledged: number[] = [];
    let increments = 0;
    let refused = 0;
    let unconfirmed = 0;
    let replayed = 0;
    /** The time of each kernel's last acknowledged trigger. */
    const lastAck = kernels.map(() => 0);
    let stop = false;
    // Each client sends its next increment once the last was answered, a refused one again with
    // its key (the last one too, after the stream stops).
    const clients = kernels.map(async (kernel, k) => {
      for (let n = 0; !stop; n += 1) {
        increments += 1;
        for (;;) {
          const result: { status: number; body: Body } = await post(
            `${kernel.url}/panels/${id!}/trigger/inc`,
            {},
            { 'Idempotency-Key': `bench-${k}-${n}` },
          ).catch(() => ({ status: 0, body: {} }));
          if (result.status === 200) {
            acknowledged.push(result.body.version as number);
            if (result.body.replayed === true) replayed += 1;
            else lastAck[k] = performance.now();
            break;
          }
          refused += 1;
          if (result.status === 504) unconfirmed += 1;
          await sleep(20);
        }
      }
    });
    const times: number[] = [];
    /** From each kill to a majority of the Sentinels naming a promoted primary. */
    const promotions: number[] = [];
    try {
      await sleep(1000);
      for (let kill = 0; kill < KILLS; kill += 1) {
        const primary = await redis.primary();
        progress(`failover ${kill + 1} of ${KILLS}: SIGKILL of the primary`);
        const killedAt = performance.now();
        await redis.killNode(primary);
        const promoted = redis
          .promotedFrom(primary, FAILOVER_BOUND_MS)
          .then(() => promotions.push(performance.now() - killedAt));
        const bound = killedAt + FAILOVER_BOUND_MS;
        while (!lastAck.every((at) => at > killedAt)) {
          if (performance.now() > bound) throw new Error(`no failover within ${FAILOVER_BOUND_MS} ms`);
          await sleep(10);
        }
        times.push(performance.now() - killedAt);
        await promoted;
        // Its pod restarts and follows the new primary, ready to be promoted at the next kill.
        await redis.startNode(primary);
        await redis.replicating(primary);
        await sleep(1000);
      }
    } finally {
      stop = true;
      await Promise.all(clients);
    }
    const state = (await (await fetch(`${kernels[0]!.url}/panels/${id!}/state`)).json()) as Body;
    const count = (state.state as Body).count as number;
    // An acknowledged increment lost shows as its version acknowledged again later, or beyond the end.
    const lost =
      acknowledged.length - new Set(acknowledged).size + acknowledged.filter((v) => v > count).length;
    // Every increment was answered once: the count is their number unless one was lost or applied twice.
    const offBy = count - increments;
    const sorted = [...times].sort((a, b) => a - b);
    return [
      `### Failover: ${KILLS} kills of the primary (primary + 2 replicas, 3 Sentinels, down-after-milliseconds 1000, WAIT 1; 3 kernels, one client each, keyed increments retried until answered)`,
      '',
      '| kills | promotion, each (ms) | every kernel serving again, each (ms) | median | worst | increments | refusals retried | of which 504 unconfirmed | answered from their record | acknowledged lost | final count − increments |',
      '|---|---|---|---|---|---|---|---|---|---|---|',
      `| ${KILLS} | ${promotions.map((t) => t.toFixed(0)).join(', ')} | ${times.map((t) => t.toFixed(0)).join(', ')} | ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} | ${sorted.at(-1)!.toFixed(0)} | ${increments} | ${refused} | ${unconfirmed} | ${replayed} | ${lost} | ${offBy} |`,
      '',
    ];
  } finally {
    await Promise.all(kernels.map((kernel) => kernel.stop()));
    await redis.stop();
  }
}

export async function durabilityBenchmark(): Promise<string[]> {
  return [...(await throughput()), ...(await failovers())];
}
