// A fleet on a replicated store (a primary, two replicas, three Sentinels on 127.0.0.1) when the
// primary is killed with SIGKILL under a stream of triggers from three kernels: no acknowledged
// increment is lost, versions stay gap-free and never repeat (no segment committed twice), every
// kernel serves again after the promotion by itself, and a subscriber ends with the state every
// acknowledged change made, each PATCH it got matching the version it names.

import { type Fleet, startFleet } from '../testing/fleet.js';
import { counterPanel, postJson, TestSocket } from '../testing/kernel-harness.js';
import type { TestRedisSentinel } from '../testing/redis-server.js';
import { eventually } from '../testing/eventually.js';

type Body = Record<string, unknown>;

/** Acknowledged increments each kernel must see before the kill, and after the promotion. */
const BEFORE_KILL = 10;
const AFTER_PROMOTION = 5;

interface Outcome {
  readonly kernel: number;
  readonly status: number;
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

  it('loses no acknowledged increment, commits each once, and serves again after the promotion', async () => {
    const id = (await postJson(`${fleet.at(0).url}/panels`, counterPanel)).body.id as string;
    const socket = await TestSocket.open(`${fleet.at(1).wsUrl}/panels/${id}/ws`);
    await socket.ofType('CONNECTED');

    const outcomes: Outcome[] = [];
    let stop = false;
    let killed = -1;
    const acknowledged = (kernel: number, after = 0) =>
      outcomes.slice(after).filter((outcome) => outcome.kernel === kernel && outcome.status === 200).length;
    // One client per kernel, each sending its next increment once the last one was answered.
    const clients = fleet.kernels.map(async (kernel, k) => {
      while (!stop) {
        const result = await postJson(`${kernel.url}/panels/${id}/trigger/increment`, { by: 1 }).catch(
          (error: unknown) => ({ status: 0, body: { error: String(error) } }),
        );
        outcomes.push({ kernel: k, ...result });
        if (result.status !== 200) await new Promise((resolve) => setTimeout(resolve, 50));
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
    // Every refusal is a retryable 503; the ones that may have applied say so.
    for (const outcome of refused) {
      expect(outcome).toMatchObject({ status: 503, body: { error: { code: 'STORE_UNAVAILABLE' } } });
    }
    const maybeApplied = refused.filter((outcome) =>
      String((outcome.body.error as Body).message).includes('may be applied'),
    ).length;
    // No version twice, and each acknowledged increment's count is its version: every commit
    // applied once, on top of the one before it.
    const versions = successes.map((outcome) => outcome.body.version as number);
    expect(new Set(versions).size).toBe(versions.length);
    for (const outcome of successes) expect(outcome.body.returnValue).toBe(outcome.body.version);

    // The store, read from the new primary: every acknowledged increment is there; the only
    // others are refusals that said they may be applied.
    const state = await eventually('the state', async () => {
      const response = await fetch(`${fleet.at(2).url}/panels/${id}/state`);
      return response.status === 200 ? ((await response.json()) as Body) : undefined;
    });
    const count = (state.state as Body).count as number;
    expect(state.version).toBe(count);
    expect(count).toBeGreaterThanOrEqual(Math.max(...versions));
    expect(count - successes.length).toBeGreaterThanOrEqual(0);
    expect(count - successes.length).toBeLessThanOrEqual(maybeApplied);

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
