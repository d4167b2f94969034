// What a fleet on Redis survives: Redis restarting (503 while it is away, nothing lost after),
// a killed pub/sub connection, a kernel stopped with SIGTERM while handlers are parked, a kernel
// killed mid-burst, and the switch from the embedded store (its panels are imported once).

import { readdir } from 'node:fs/promises';
import { type HttpTarget, json, startHttpTarget } from '../testing/http-target.js';
import {
  type ChildKernel,
  counterPanel,
  makeDataDir,
  postJson,
  startChildKernel,
  startTestKernel,
  type TestKernel,
  TestSocket,
} from '../testing/kernel-harness.js';
import { startRedis, startRedisCluster, type TestRedis } from '../testing/redis-server.js';
import { eventually } from '../testing/eventually.js';

type Body = Record<string, unknown>;

async function getJson(url: string): Promise<{ status: number; body: Body }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Body };
}

const storeEnv = (redis: TestRedis, prefix: string): Record<string, string> => ({
  STORE_URL: redis.url,
  STORE_TOPOLOGY: redis.topology,
  STORE_KEY_PREFIX: prefix,
});

describe.each([
  ['standalone', startRedis],
  ['cluster', startRedisCluster],
] as const)('a fleet on Redis (%s) when Redis restarts', (_name, start) => {
  let redis: TestRedis;
  let kernels: TestKernel[];

  beforeAll(async () => {
    redis = await start();
    const env = { ...storeEnv(redis, 'restart:'), STORE_TIMEOUT_MS: '500' };
    kernels = [await startTestKernel(env), await startTestKernel(env)];
  }, 120_000);
  afterAll(async () => {
    await Promise.all(kernels.map((kernel) => kernel.stop()));
    await redis.stop();
  });

  it('answers 503 STORE_UNAVAILABLE while Redis is down, stays live and ready, and catches up after', async () => {
    const [a, b] = kernels as [TestKernel, TestKernel];
    const id = (await postJson(`${a.url}/panels`, counterPanel)).body.id as string;
    for (let i = 0; i < 3; i += 1) await postJson(`${a.url}/panels/${id}/trigger/increment`, { by: 1 });
    const socket = await TestSocket.open(`${b.wsUrl}/panels/${id}/ws`);
    expect(await socket.ofType('CONNECTED')).toMatchObject({ version: 3 });

    await redis.restart({
      downMs: 1500,
      onDown: async () => {
        const trigger = await postJson(`${a.url}/panels/${id}/trigger/increment`, { by: 1 });
        expect(trigger.status).toBe(503);
        expect(trigger.body.error).toMatchObject({ code: 'STORE_UNAVAILABLE' });
        const read = await getJson(`${b.url}/panels/${id}/state`);
        expect(read.status).toBe(503);
        const health = await getJson(`${b.url}/health`);
        expect(health.status).toBe(200);
        expect((await fetch(`${b.url}/ready`)).status).toBe(200);
      },
    });

    await eventually('the store to be back', async () => {
      const health = await getJson(`${a.url}/health`);
      return (health.body.store as Body).connected === true ? true : undefined;
    });
    const after = await eventually('a trigger to succeed', async () => {
      const result = await postJson(`${a.url}/panels/${id}/trigger/increment`, { by: 1 });
      return result.status === 200 ? result : undefined;
    });
    // AOF kept every acknowledged change: 3 before, this one after.
    expect(after.body).toMatchObject({ status: 'success', returnValue: 4, version: 4 });
    expect(await socket.next((m) => m.type === 'PATCH' && m.version === 4, 10_000)).toMatchObject({
      mutations: [{ key: 'count', value: 4 }],
    });
    expect(socket.messages.find((m) => m.type === 'ERROR')).toBeUndefined();
    socket.close();
  });
});

describe('a fleet on Redis (standalone) when connections and kernels fail', () => {
  let redis: TestRedis;
  let target: HttpTarget;
  let releases: (() => void)[] = [];
  let b: TestKernel;
  let child: ChildKernel | undefined;

  beforeAll(async () => {
    redis = await startRedis();
    target = await startHttpTarget();
    target.route('/slow', (_request, _body, response) => {
      releases.push(() => json(response, 200, { ok: true }));
    });
    b = await startTestKernel({
      ...storeEnv(redis, 'failures:'),
      HTTP_ALLOWED_DOMAINS: `127.0.0.1:${target.port}`,
    });
  }, 60_000);
  afterEach(async () => {
    for (const release of releases) release();
    releases = [];
    if (child !== undefined && child.process.exitCode === null) {
      child.process.kill('SIGKILL');
      await child.exited;
    }
    child = undefined;
  });
  afterAll(async () => {
    await b.stop();
    await target.close();
    await redis.stop();
  });

  const startA = async (extra: Record<string, string> = {}) =>
    startChildKernel(
      { ...storeEnv(redis, 'failures:'), HTTP_ALLOWED_DOMAINS: `127.0.0.1:${target.port}`, ...extra },
      await makeDataDir(),
    );

  it('catches a subscriber up when its pub/sub connection is killed', async () => {
    const a = await startTestKernel(storeEnv(redis, 'failures:'));
    try {
      const id = (await postJson(`${a.url}/panels`, counterPanel)).body.id as string;
      const socket = await TestSocket.open(`${b.wsUrl}/panels/${id}/ws`);
      await socket.ofType('CONNECTED');
      await redis.cli('CLIENT', 'KILL', 'TYPE', 'pubsub');
      for (let i = 0; i < 5; i += 1) await postJson(`${a.url}/panels/${id}/trigger/increment`, { by: 1 });
      const patches = await eventually<Body[]>('all five PATCHes', () => {
        const seen = socket.messages.filter((m) => m.type === 'PATCH');
        return seen.length >= 5 ? seen : undefined;
      });
      expect(patches.map((patch) => patch.version)).toEqual([1, 2, 3, 4, 5]);
      socket.close();
    } finally {
      await a.stop();
    }
  });

  it('lets parked handlers finish on SIGTERM, and their clients resume on another kernel without a gap', async () => {
    // Three handlers of one panel park at once: more than a panel's default share of the
    // instances (half of MAX_INSTANCES 4), so this kernel gives one panel all four.
    child = await startA({ PANEL_MAX_INSTANCES: '4' });
    const a = child;
    const id = (
      await postJson(`${a.url}/panels`, {
        title: 'Slow',
        state: { done: 0, started: 0 },
        extensions: ['http'],
        tools: {
          work: {
            capabilities: ['state:read:*', 'state:write:*', 'ext:http'],
            handler: `$state.started = $state.started + 1; await $ext.http.get(${JSON.stringify(`${target.origin}/slow`)}); $state.done = $state.done + 1; return $state.done`,
          },
        },
      })
    ).body.id as string;
    const client = await TestSocket.open(`${a.wsUrl}/panels/${id}/ws`);
    const hello = await client.ofType('CONNECTED');
    const running = [1, 2, 3].map(() => postJson(`${a.url}/panels/${id}/trigger/work`, {}));
    await eventually('three parked handlers', () => (releases.length === 3 ? true : undefined));
    const seen = await client.next((m) => m.type === 'PATCH' && m.version === 3);
    a.process.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const release of releases) release();
    const results = await Promise.all(running);
    expect(results.map((result) => result.body.status)).toEqual(['success', 'success', 'success']);
    expect((await client.closed).code).toBe(1001);
    expect(await a.exited).toBe(0);
    const last = client.messages.filter((m) => m.type === 'PATCH').at(-1)!.version as number;
    expect(last).toBeGreaterThanOrEqual(seen.version as number);

    const resumed = await TestSocket.open(
      `${b.wsUrl}/panels/${id}/ws?since=${last}&epoch=${String(hello.epoch)}`,
    );
    expect(await resumed.ofType('CONNECTED')).toMatchObject({ resumed: true, version: last });
    const missing = 6 - last;
    if (missing > 0) await resumed.next((m) => m.type === 'PATCH' && m.version === 6);
    expect(resumed.messages.filter((m) => m.type === 'PATCH').map((m) => m.version)).toEqual(
      Array.from({ length: missing }, (_, i) => last + i + 1),
    );
    expect((await getJson(`${b.url}/panels/${id}/state`)).body).toMatchObject({
      version: 6,
      state: { done: 3, started: 3 },
    });
    resumed.close();
  });

  it('loses no acknowledged mutation when a kernel is killed mid-burst', async () => {
    child = await startA();
    const a = child;
    const id = (await postJson(`${a.url}/panels`, counterPanel)).body.id as string;
    const acknowledged: number[] = [];
    const burst = Array.from({ length: 80 }, () =>
      postJson(`${a.url}/panels/${id}/trigger/increment`, { by: 1 }).then(
        (result) => {
          if (result.body.status === 'success') acknowledged.push(result.body.version as number);
        },
        () => {},
      ),
    );
    await eventually('some acknowledged increments', () => (acknowledged.length >= 10 ? true : undefined));
    a.process.kill('SIGKILL');
    await Promise.all(burst);
    await a.exited;
    const state = (await getJson(`${b.url}/panels/${id}/state`)).body;
    expect((state.state as Body).count).toBeGreaterThanOrEqual(acknowledged.length);
    expect(state.version).toBeGreaterThanOrEqual(Math.max(...acknowledged));
    // A lease the dead kernel held lapses: the panel goes on working.
    const next = await postJson(`${b.url}/panels/${id}/trigger/increment`, { by: 1 });
    expect(next.body).toMatchObject({ status: 'success', version: (state.version as number) + 1 });
  });

  it('imports the panels of an embedded store once when the kernel moves to Redis', async () => {
    const dir = await makeDataDir();
    const embedded = await startTestKernel({}, dir);
    const id = (await postJson(`${embedded.url}/panels`, counterPanel)).body.id as string;
    for (let i = 0; i < 4; i += 1)
      await postJson(`${embedded.url}/panels/${id}/trigger/increment`, { by: 2 });
    await embedded.stop();

    const moved = await startTestKernel(storeEnv(redis, 'failures:'), dir);
    expect((await getJson(`${b.url}/panels/${id}/state`)).body).toMatchObject({
      version: 4,
      state: { count: 8 },
    });
    expect(await readdir(dir)).toEqual([`${id}.json.imported`]);
    await postJson(`${moved.url}/panels/${id}/trigger/increment`, { by: 1 });
    await moved.stop();
    const again = await startTestKernel(storeEnv(redis, 'failures:'), dir);
    expect((await getJson(`${again.url}/panels/${id}/state`)).body).toMatchObject({
      version: 5,
      state: { count: 9 },
    });
    await again.stop();
  });
});
