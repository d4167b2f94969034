// Hostile use of the panel store, against kernel processes with their own Redis or embedded
// store, /health probed throughout: a handler that writes far more than its net change leaves
// no more than the history's budget behind; with Redis' maxmemory reached a delete still works
// and frees room for everything else; a restart's memory is bounded by the budgets whatever the
// files hold; clients resuming through one large frame share it; a kernel killed while deleting
// a panel leaves nothing that outlives a bounded time. The figures named here are explained in
// docs/kernel.md ("Store budgets and memory").

import { readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import WebSocket from 'ws';
import { rssMiB, underAttack } from '../testing/attack.js';
import { track } from '../testing/cleanup.js';
import { type ChildKernel, makeDataDir, postJson, startChildKernel } from '../testing/kernel-harness.js';
import { startRedis, type TestRedis } from '../testing/redis-server.js';
import { eventually } from '../testing/eventually.js';

type Body = Record<string, unknown>;
const MiB = 1024 * 1024;

/** The kernel's defaults that the bounds below are made of. */
const MAX_STATE_BYTES = MiB;
const STORE_HISTORY_BYTES = MiB;

/** Headroom for Redis' own buffers and allocator rounding in a used_memory bound. */
const REDIS_SLACK = 16 * MiB;
/** Headroom for a kernel's transient allocations (one file read, GC timing) in an RSS bound. */
const RSS_SLACK_MIB = 96;

/** Peak resident set size of a process so far, MiB. */
function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
}

async function getJson(url: string): Promise<{ status: number; body: Body }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json().catch(() => ({}))) as Body };
}

async function stop(kernel: ChildKernel | undefined): Promise<void> {
  if (kernel === undefined || kernel.process.exitCode !== null || kernel.process.signalCode !== null) return;
  kernel.process.kill('SIGTERM');
  await kernel.exited;
}

const storeEnv = (redis: TestRedis, prefix: string): Record<string, string> => ({
  STORE_URL: redis.url,
  STORE_TOPOLOGY: redis.topology,
  STORE_KEY_PREFIX: prefix,
});

async function usedMemory(redis: TestRedis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.cli('INFO', 'memory'))?.[1]);
}

/** A handler that sets a 900 KB value 15 times and deletes it: the state ends as it began. */
const bloat = {
  capabilities: ['state:read:*', 'state:write:*'],
  handler:
    "const s = 'x'.repeat(900000); for (let i = 0; i < 15; i++) { $state.a = s; delete $state.a; } return 1",
};
/** Mounts with a 900 KB state. */
const heavy = {
  title: 'Heavy',
  state: { n: 0 },
  tools: { bloat },
  lifecycle: {
    mount: { capabilities: ['state:write:*'], handler: "$state.a = 'x'.repeat(900000)" },
  },
};
const counter = {
  title: 'Counter',
  state: { n: 0 },
  tools: {
    inc: { capabilities: ['state:read:*', 'state:write:*'], handler: '$state.n += 1; return $state.n' },
  },
};

describe('a kernel on Redis against a store-filling client', () => {
  let redis: TestRedis;
  let kernel: ChildKernel;

  beforeAll(async () => {
    redis = await startRedis({ maxmemory: '256mb' });
    kernel = await startChildKernel(storeEnv(redis, 'hostile:'), await makeDataDir());
  }, 60_000);
  afterAll(async () => {
    await stop(kernel);
    await redis?.stop();
  });

  it('keeps no more than the history budget of a segment that writes 15 times its net change', async () => {
    const panels = 10;
    const before = await usedMemory(redis);
    const ids: string[] = [];
    const { failedProbes } = await underAttack(kernel.url, async () => {
      for (let i = 0; i < panels; i += 1) {
        const created = await postJson(`${kernel.url}/panels`, { ...counter, tools: { bloat } });
        expect(created.status).toBe(201);
        ids.push(created.body.id as string);
        const result = await postJson(`${kernel.url}/panels/${created.body.id as string}/trigger/bloat`, {});
        expect(result.status).toBe(200);
      }
    });
    expect(failedProbes).toBe(0);
    // Each panel holds at most its state and its history's budget (MAX_STATE_BYTES +
    // STORE_HISTORY_BYTES), not the ~13 MB frame of every mutation.
    const bound = before + panels * (MAX_STATE_BYTES + STORE_HISTORY_BYTES) + REDIS_SLACK;
    expect(await usedMemory(redis)).toBeLessThan(bound);
    for (const id of ids)
      expect((await fetch(`${kernel.url}/panels/${id}`, { method: 'DELETE' })).status).toBe(200);
  }, 120_000);

  it('deletes panels when maxmemory is reached, refuses other writes with a retryable 503, and recovers', async () => {
    const small = (await postJson(`${kernel.url}/panels`, counter)).body.id as string;
    const bloated: string[] = [];
    for (let i = 0; i < 8; i += 1) {
      const created = await postJson(`${kernel.url}/panels`, heavy);
      expect(created.status).toBe(201);
      bloated.push(created.body.id as string);
    }
    // The store is full: maxmemory is what it uses now, less more than Redis may give back by
    // itself (a connection's query buffer).
    await redis.cli('CONFIG', 'SET', 'maxmemory', String((await usedMemory(redis)) - 2 * MiB));
    try {
      const { failedProbes } = await underAttack(kernel.url, async () => {
        for (const refused of [
          await fetch(`${kernel.url}/panels/${small}/trigger/inc`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: '{}',
          }),
          await fetch(`${kernel.url}/panels`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(counter),
          }),
        ]) {
          expect(refused.status).toBe(503);
          expect(refused.headers.get('retry-after')).toBe('1');
          const body = (await refused.json()) as { error: { code: string; message: string } };
          expect(body.error.code).toBe('STORE_UNAVAILABLE');
          expect(body.error.message).toMatch(/maxmemory/);
        }
        // Deleting needs no memory: every bloated panel goes.
        for (const id of bloated) {
          expect((await fetch(`${kernel.url}/panels/${id}`, { method: 'DELETE' })).status).toBe(200);
          expect((await getJson(`${kernel.url}/panels/${id}`)).status).toBe(404);
        }
        // And the room it freed serves everything else again.
        const inc = await postJson(`${kernel.url}/panels/${small}/trigger/inc`, {});
        expect(inc.status).toBe(200);
        expect(inc.body).toMatchObject({ returnValue: 1 });
        expect((await postJson(`${kernel.url}/panels`, counter)).status).toBe(201);
      });
      expect(failedProbes).toBe(0);
    } finally {
      await redis.cli('CONFIG', 'SET', 'maxmemory', '256mb');
    }
  }, 120_000);
});

/** A panel whose unmount runs 2.5 s; MAX_PANELS is 3. */
const slowUnmount = {
  title: 'Slow goodbye',
  state: {},
  tools: {},
  lifecycle: {
    unmount: { capabilities: [], handler: 'const t = Date.now(); while (Date.now() - t < 2500); return 1' },
  },
};
const zombieEnv = { MAX_PANELS: '3', TIMEOUT_MS: '3000', EXECUTION_DEADLINE_MS: '3000' };
/**
 * How long the store may take to forget a panel whose kernel died while deleting it: its
 * deleting mark (2 × EXECUTION_DEADLINE_MS + DELETE_MARK_MARGIN_MS = 16 s here), the index's
 * sweep interval (5 s) and slack.
 */
const RECOVERY_MS = 40_000;

describe.each([
  ['Redis', true],
  ['the embedded store', false],
] as const)('a kernel killed while deleting a panel (%s)', (_name, onRedis) => {
  let redis: TestRedis | undefined;
  let dataDir: string;
  const kernels: ChildKernel[] = [];

  beforeAll(async () => {
    if (onRedis) redis = await startRedis();
    dataDir = await makeDataDir();
  }, 60_000);
  afterAll(async () => {
    for (const kernel of kernels) await stop(kernel);
    await redis?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const start = async (): Promise<ChildKernel> => {
    const kernel = await startChildKernel(
      { ...zombieEnv, ...(redis === undefined ? {} : storeEnv(redis, 'zombie:')) },
      dataDir,
    );
    kernels.push(kernel);
    return kernel;
  };

  it('leaves nothing that blocks the store past a bounded time', async () => {
    const first = await start();
    const slow = (await postJson(`${first.url}/panels`, slowUnmount)).body.id as string;
    for (let i = 0; i < 2; i += 1) expect((await postJson(`${first.url}/panels`, counter)).status).toBe(201);
    expect((await postJson(`${first.url}/panels`, counter)).status).toBe(409);

    const deleting = fetch(`${first.url}/panels/${slow}`, { method: 'DELETE' }).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 800));
    first.process.kill('SIGKILL');
    await first.exited;
    await deleting;

    const second = await start();
    // Within a bounded time the delete is complete and its place free, whatever kernel asks.
    const created = await eventually(
      'a panel to be created in the deleted panel’s place',
      async () => {
        const attempt = await postJson(`${second.url}/panels`, counter);
        return attempt.status === 201 ? attempt : undefined;
      },
      { timeoutMs: RECOVERY_MS, everyMs: 200 },
    );
    expect(created.status).toBe(201);
    expect((await getJson(`${second.url}/panels/${slow}`)).status).toBe(404);
    expect((await fetch(`${second.url}/panels/${slow}`, { method: 'DELETE' })).status).toBe(404);
    const listed = (await getJson(`${second.url}/panels`)).body.panels as { id: string }[];
    expect(listed.map((panel) => panel.id)).not.toContain(slow);
    expect(listed).toHaveLength(3);
  }, 120_000);
});

describe('an embedded kernel restarting on files larger than its budgets', () => {
  let dataDir: string;
  const kernels: ChildKernel[] = [];

  beforeAll(async () => {
    dataDir = await makeDataDir();
  });
  afterAll(async () => {
    for (const kernel of kernels) await stop(kernel);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('holds at most MAX_PANELS × (MAX_STATE_BYTES + STORE_HISTORY_BYTES) beyond an idle kernel', async () => {
    // An idle kernel on an empty directory: the baseline.
    const idle = await startChildKernel({}, await makeDataDir());
    kernels.push(idle);
    const idlePeak = peakRssMiB(idle.process.pid!);
    await stop(idle);

    // 20 panels, each file with 15 MB of history (what a kernel with larger budgets, or the
    // frame of every mutation, left behind): 300 MB on disk.
    const panels = 20;
    const frame = (version: number): string =>
      `{"type":"PATCH","pad":"${'p'.repeat(MiB)}","version":${version}}`;
    for (let i = 0; i < panels; i += 1) {
      const id = `bloated-${i}`;
      const history = Array.from({ length: 15 }, (_, k) => frame(k + 1));
      const text =
        `{"format":2,"id":"${id}","createdAt":"2026-01-01T00:00:00.000Z","epoch":"e","version":15,` +
        `"definition":${JSON.stringify(counter)},"state":{"n":0},"history":${JSON.stringify(history)}}`;
      await writeFile(join(dataDir, `${id}.json`), text);
    }

    const restarted = await startChildKernel({}, dataDir);
    kernels.push(restarted);
    const pid = restarted.process.pid!;
    expect((await getJson(`${restarted.url}/health`)).body.panels).toBe(panels);
    const budget = (panels * (MAX_STATE_BYTES + STORE_HISTORY_BYTES)) / MiB;
    // Peak (before ready included) and now.
    expect(peakRssMiB(pid)).toBeLessThan(idlePeak + budget + RSS_SLACK_MIB);
    expect(rssMiB(pid)).toBeLessThan(idlePeak + budget + RSS_SLACK_MIB);
    const resumed = await getJson(`${restarted.url}/panels/bloated-0/state`);
    expect(resumed.body).toMatchObject({ state: { n: 0 }, version: 15 });
  }, 180_000);
});

describe('clients that resume through one large frame and never read', () => {
  let kernel: ChildKernel;

  beforeAll(async () => {
    kernel = await startChildKernel(
      { MAX_STATE_BYTES: '16Mi', STORE_HISTORY_BYTES: '16Mi', BODY_LIMIT: '1Mi' },
      await makeDataDir(),
    );
  }, 60_000);
  afterAll(async () => {
    await stop(kernel);
  });

  it('share the frame: N of them cost it once plus their bounded buffers', async () => {
    const frameBytes = 6_000_000;
    const created = await postJson(`${kernel.url}/panels`, {
      title: 'Large',
      state: {},
      tools: {
        fill: {
          capabilities: ['state:write:*'],
          handler: `$state.a = 'x'.repeat(${frameBytes}); return 1`,
        },
      },
    });
    const id = created.body.id as string;
    const filled = await postJson(`${kernel.url}/panels/${id}/trigger/fill`, {});
    expect(filled.body).toMatchObject({ version: 1 });
    const epoch = ((await getJson(`${kernel.url}/panels/${id}/state`)).body.epoch as string) ?? '';

    const sockets = 30;
    const clients: WebSocket[] = [];
    for (let i = 0; i < sockets; i += 1) {
      const socket = new WebSocket(`${kernel.wsUrl}/panels/${id}/ws`);
      track({ name: `resuming client ${i}`, stop: () => Promise.resolve(socket.terminate()) });
      clients.push(socket);
      // Reads the greeting (the whole state), then stops reading and resumes from version 0.
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.once('message', () => resolve());
      });
    }
    const pid = kernel.process.pid!;
    const before = rssMiB(pid);
    const { failedProbes } = await underAttack(kernel.url, async () => {
      for (const socket of clients) {
        (socket as unknown as { _socket: { pause(): void } })._socket.pause();
        socket.send(JSON.stringify({ type: 'SUBSCRIBE', since: 0, epoch }));
      }
      await new Promise((resolve) => setTimeout(resolve, 3000));
    });
    expect(failedProbes).toBe(0);
    const grown = rssMiB(pid) - before;
    // The frame once (its text in the store, its bytes for the sockets) plus what each socket
    // may hold beyond it, not one copy of it per socket (30 × 6 MB).
    const bound = (3 * frameBytes) / MiB + sockets * 1 + RSS_SLACK_MIB / 2;
    expect(grown).toBeLessThan(bound);
    for (const socket of clients) socket.terminate();
  }, 120_000);
});
