// A kernel starved past its panel lease (simulated with SIGSTOP/SIGCONT of a child kernel, which
// is what CPU throttling or a busy node does to a process, only longer): the lease lapses in
// Redis while the kernel is stopped. When another kernel used the panel meanwhile, fencing
// refuses the stalled kernel's segment and its client gets a retryable 503 with Retry-After —
// not a 500, not INTERNAL_ERROR — and nothing acknowledged is lost or applied twice. When
// nobody used the panel, the stalled kernel's segment is applied: being slow is not a failure.

import { createClient } from '@redis/client';
import {
  type ChildKernel,
  makeDataDir,
  postJson,
  startChildKernel,
  startTestKernel,
  type TestKernel,
} from '../testing/kernel-harness.js';
import { startRedis, type TestRedis } from '../testing/redis-server.js';

const PREFIX = 'stall:';

const panel = {
  title: 'Stall',
  state: { count: 0 },
  tools: {
    // Spins long enough for the test to stop the kernel while it holds the panel's lease.
    slow: {
      capabilities: ['state:read:*', 'state:write:count'],
      timeoutMs: 15_000,
      handler:
        'const end = Date.now() + 3000; while (Date.now() < end) {} $state.count = $state.count + 1; return $state.count',
    },
    inc: {
      capabilities: ['state:read:*', 'state:write:count'],
      handler: '$state.count = $state.count + 1; return $state.count',
    },
  },
};

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('a kernel starved past its panel lease', () => {
  let redis: TestRedis;
  let stalled: ChildKernel;
  let other: TestKernel;
  let watcher: ReturnType<typeof createClient>;

  beforeAll(async () => {
    redis = await startRedis();
    const env = {
      STORE_URL: redis.url,
      STORE_KEY_PREFIX: PREFIX,
      TIMEOUT_MS: '20000',
      EXECUTION_DEADLINE_MS: '60000',
    };
    stalled = await startChildKernel(env, await makeDataDir());
    other = await startTestKernel(env);
    watcher = createClient({ url: redis.url });
    await watcher.connect();
  }, 120_000);

  afterAll(async () => {
    if (stalled !== undefined) {
      stalled.process.kill('SIGCONT');
      stalled.process.kill('SIGKILL');
      await stalled.exited;
    }
    await other?.stop();
    await watcher?.close();
    await redis?.stop();
  });

  async function newPanel(): Promise<string> {
    const created = await postJson(`${other.url}/panels`, panel);
    expect(created.status).toBe(201);
    return created.body.id as string;
  }

  const lockOf = (id: string) => `${PREFIX}{${id}}:l`;
  const count = async (id: string) =>
    ((await (await fetch(`${other.url}/panels/${id}/state`)).json()) as { state: { count: number } }).state
      .count;

  /** Triggers `slow` on the stalled kernel and stops it while it holds the lease, until the lease lapses. */
  async function stallWhileHolding(id: string): Promise<{ answer: Promise<Response> }> {
    const answer = fetch(`${stalled.url}/panels/${id}/trigger/slow`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    await until('the stalled kernel to take the lease', async () => (await watcher.exists(lockOf(id))) === 1);
    stalled.process.kill('SIGSTOP');
    await until('the lease to lapse', async () => (await watcher.exists(lockOf(id))) === 0);
    return { answer };
  }

  it('refuses its segment by fencing when another kernel used the panel, and answers 503 with Retry-After', async () => {
    const id = await newPanel();
    const { answer } = await stallWhileHolding(id);
    // Meanwhile another kernel takes the panel and acknowledges a change.
    const meanwhile = await postJson(`${other.url}/panels/${id}/trigger/inc`, {});
    expect(meanwhile).toMatchObject({ status: 200, body: { status: 'success', returnValue: 1 } });
    stalled.process.kill('SIGCONT');
    const response = await answer;
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('1');
    expect(await response.json()).toMatchObject({ error: { code: 'OVERLOADED' } });
    // Exactly the acknowledged change: the refused segment wrote nothing.
    expect(await count(id)).toBe(1);
    // The stalled kernel serves the panel normally once it runs again.
    const after = await postJson(`${stalled.url}/panels/${id}/trigger/inc`, {});
    expect(after).toMatchObject({ status: 200, body: { status: 'success', returnValue: 2 } });
  }, 90_000);

  it('applies its segment when nobody used the panel while it was stopped', async () => {
    const id = await newPanel();
    const { answer } = await stallWhileHolding(id);
    stalled.process.kill('SIGCONT');
    const response = await answer;
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'success', returnValue: 1 });
    expect(await count(id)).toBe(1);
  }, 90_000);
});
