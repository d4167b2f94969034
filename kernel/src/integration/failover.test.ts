// A fleet on a replicated store (a primary, two replicas, three Sentinels on 127.0.0.1). A commit
// its replicas do not confirm is a 504 that a client may retry only with its idempotency key, and
// the retry applies it once. When the primary is killed with SIGKILL under a stream of keyed
// triggers from three kernels, each retried until answered: every increment is applied exactly
// once, versions stay gap-free and never repeat, every kernel serves again after the promotion by
// itself, and a subscriber ends with the final state, each PATCH it got matching its version.

import { type Fleet, startFleet } from '../testing/fleet.js';
import { counterPanel, postJson, sendJson, TestSocket } from '../testing/kernel-harness.js';
import type { TestRedisSentinel } from '../testing/redis-server.js';
import { eventually } from '../testing/eventually.js';

type Body = Record<string, unknown>;

/** Acknowledged increments each kernel must see before the kill, and after the promotion. */
const BEFORE_KILL = 10;
const AFTER_PROMOTION = 5;

interface Outcome {
  readonly kernel: number;
  readonly key: string;
  readonly status: number;
  readonly headers: Headers;
  readonly body: Body;
}

describe('a fleet on Redis with Sentinel when the primary is killed', () => {
  let fleet: Fleet;
  let redis: TestRedisSentinel;

  beforeAll(async () => {
    fleet = await startFleet(
      'redis-sentinel',
      { STORE_TIMEOUT_MS: '1000', STORE_ACK_TIMEOUT_MS: '1000' },
      3,
      {
        replicas: 2,
      },
    );
    redis = fleet.redis as TestRedisSentinel;
  }, 90_000);
  afterAll(async () => {
    await fleet?.stop();
  }, 60_000);

  it('answers a commit its replicas did not confirm with 504, and a retry with its idempotency key applies it once', async () => {
    const id = (await postJson(`${fleet.at(0).url}/panels`, counterPanel)).body.id as string;
    const trigger = (kernel: number, headers: Record<string, string> = {}) =>
      sendJson('POST', `${fleet.at(kernel).url}/panels/${id}/trigger/increment`, { by: 1 }, headers);
    const primary = await redis.primary();
    const replicas = [0, 1, 2].filter((node) => node !== primary);
    // Both replicas stop answering: the primary applies each commit, WAIT confirms none.
    for (const node of replicas) redis.pauseNode(node, true);
    let plain;
    let keyed;
    try {
      plain = await trigger(0);
      keyed = await trigger(0, { 'Idempotency-Key': 'failover-keyed-1' });
    } finally {
      for (const node of replicas) redis.pauseNode(node, false);
    }
    // Without a key nothing tells a retry from a new request: no Retry-After, read the state.
    expect(plain).toMatchObject({ status: 504, body: { error: { code: 'COMMIT_UNCONFIRMED' } } });
    expect(plain.headers.get('retry-after')).toBeNull();
    // With one a retry is safe, and the answer says when.
    expect(keyed).toMatchObject({ status: 504, body: { error: { code: 'COMMIT_UNCONFIRMED' } } });
    expect(keyed.headers.get('retry-after')).toBe('1');

    // The retry, on another kernel once the replicas caught up: the first outcome, nothing ran.
    const retried = await eventually('the retry to be answered', async () => {
      const answer = await trigger(1, { 'Idempotency-Key': 'failover-keyed-1' });
      return answer.status === 200 ? answer : undefined;
    });
    expect(retried.body).toMatchObject({ status: 'success', version: 2, returnValue: 2, replayed: true });
    const state = await getState(fleet.at(2).url, id);
    expect(state).toMatchObject({ version: 2, state: { count: 2 } });
    // Both unconfirmed commits are counted on the kernel that made them.
    const metrics = await (await fetch(`${fleet.at(0).url}/metrics`)).text();
    expect(metrics).toMatch(/^nexus_kernel_store_commits_unconfirmed_total 2$/m);
  }, 60_000);

  it('loses no acknowledged increment, applies each keyed increment once across retries, and serves again after the promotion', async () => {
    const id = (await postJson(`${fleet.at(0).url}/panels`, counterPanel)).body.id as string;
    const socket = await TestSocket.open(`${fleet.at(1).wsUrl}/panels/${id}/ws`);
    await socket.ofType('CONNECTED');

    const outcomes: Outcome[] = [];
    const keys: string[] = [];
    let stop = false;
    let killed = -1;
    const acknowledged = (kernel: number, after = 0) =>
      outcomes.slice(after).filter((outcome) => outcome.kernel === kernel && outcome.status === 200).length;
    // One client per kernel, each sending its next increment once the last one was answered:
    // a refused one is sent again with the same idempotency key until it is answered, the way
    // a careful client retries (the last one too, after the stream stops).
    const clients = fleet.kernels.map(async (kernel, k) => {
      for (let n = 0; !stop; n += 1) {
        const key = `failover-${k}-${n}`;
        keys.push(key);
        for (let attempt = 0; ; attempt += 1) {
          const result = await sendJson(
            'POST',
            `${kernel.url}/panels/${id}/trigger/increment`,
            { by: 1 },
            {
              'Idempotency-Key': key,
            },
          ).catch((error: unknown) => ({
            status: 0,
            headers: new Headers(),
            body: { error: String(error) },
          }));
          outcomes.push({ kernel: k, key, ...result });
          if (result.status === 200) break;
          if (attempt > 600) throw new Error(`increment ${key} was refused ${attempt} times`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    });
    try {
      await eventually('increments acknowledged by every kernel', () =>
        fleet.kernels.every((_, k) => acknowledged(k) >= BEFORE_KILL) ? true : undefined,
      );
      killed = await redis.primary();
      await redis.killNode(killed);
      await redis.promotedFrom(killed);
      const promotedAt = outcomes.length;
      await eventually(
        'every kernel to serve again',
        () =>
          fleet.kernels.every((_, k) => acknowledged(k, promotedAt) >= AFTER_PROMOTION) ? true : undefined,
        { timeoutMs: 45_000 },
      );
    } finally {
      stop = true;
      await Promise.all(clients);
    }

    const successes = outcomes.filter((outcome) => outcome.status === 200);
    const refused = outcomes.filter((outcome) => outcome.status !== 200);
    // Every refusal says when to retry (the request carried its key, so even an unconfirmed
    // commit may be retried), and comes from the store's trouble, not the client's request.
    for (const outcome of refused) {
      expect(outcome.headers.get('retry-after')).not.toBeNull();
      expect([409, 429, 503, 504]).toContain(outcome.status);
    }
    // Each key answered once, with the version its increment made: every increment applied
    // once, on top of the one before it, however often it was sent.
    expect(successes.map((outcome) => outcome.key).sort()).toEqual([...keys].sort());
    const versions = successes.map((outcome) => outcome.body.version as number);
    expect(new Set(versions).size).toBe(versions.length);
    for (const outcome of successes) expect(outcome.body.returnValue).toBe(outcome.body.version);

    // The store, read from the new primary: exactly one increment per key.
    const state = await getState(fleet.at(2).url, id);
    const count = (state.state as Body).count as number;
    expect(state.version).toBe(count);
    expect(count).toBe(keys.length);
    expect(Math.max(...versions)).toBe(count);

    // The subscriber catches up to the last version; every PATCH it got says the count is its
    // version (none for a change that was then lost), each version once.
    await socket.next((message) => message.type === 'PATCH' && message.version === count, 20_000);
    const patches = socket.messages.filter((message) => message.type === 'PATCH');
    const seen = patches.map((patch) => patch.version as number);
    expect(new Set(seen).size).toBe(seen.length);
    for (const patch of patches) {
      expect(patch.mutations).toEqual([expect.objectContaining({ key: 'count', value: patch.version })]);
    }
    socket.close();

    // The killed node's pod restarts: it follows the new primary and holds the same state.
    await redis.startNode(killed);
    await redis.replicating(killed);
  }, 120_000);
});

async function getState(url: string, id: string): Promise<Body> {
  return eventually('the state', async () => {
    const response = await fetch(`${url}/panels/${id}/state`);
    return response.status === 200 ? ((await response.json()) as Body) : undefined;
  });
}
