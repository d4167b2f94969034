// The Redis store through Sentinel against real processes (a primary, a replica, three
// Sentinels): a commit is acknowledged only once the replica holds it and only then published;
// a commit the replica does not confirm is a 504 COMMIT_UNCONFIRMED, published nowhere, and a
// retry's lease is answered from its request record only once the replica holds the record;
// after a promotion the store follows the new primary, and a kernel whose lease was taken on the
// old primary cannot commit over the one that leased the panel on the new primary, and a
// primary demoted while alive (SENTINEL FAILOVER) is never written to again.

import pino from 'pino';
import { startRedisSentinel, type TestRedisSentinel } from '../testing/redis-server.js';
import { RETENTION } from '../testing/retention.js';
import { eventually } from '../testing/eventually.js';
import { panelKeys } from './redis-keys.js';
import { RedisLink } from './redis-link.js';
import { RedisStore } from './redis.js';
import type { FeedMessage, SegmentWrite } from './types.js';

const logger = pino({ level: 'silent' });
const PREFIX = 'sentinel:';
const ACK_TIMEOUT_MS = 300;

function increment(to: number): SegmentWrite {
  return {
    mutations: [{ key: 'n', json: String(to) }],
    patchPrefix: '{"type":"PATCH","version":',
    patchSuffix: `,"n":${to}}`,
    eventFrames: [],
  };
}

describe('the Redis store through Sentinel', () => {
  let redis: TestRedisSentinel;
  const stores: RedisStore[] = [];
  let ids = 0;

  function storeOf(n: number, leaseMs = 60_000): RedisStore {
    const link = new RedisLink(
      {
        url: redis.url,
        topology: 'sentinel',
        commandTimeoutMs: 500,
        name: `sentinel-unit-${n}`,
        sentinel: {
          masterName: redis.masterName,
          nodes: [redis.url, ...redis.sentinels.split(',').map((node) => `redis://${node}`)].map((url) => {
            const parsed = new URL(url);
            return { host: parsed.hostname, port: Number(parsed.port) };
          }),
        },
      },
      logger,
    );
    const store = new RedisStore(
      link,
      {
        prefix: PREFIX,
        origin: `kernel-${n}`,
        leaseMs,
        ack: { replicas: 1, timeoutMs: ACK_TIMEOUT_MS },
        limits: {
          maxPanels: 100,
          maxStateBytes: 1 << 20,
          historyLength: 16,
          historyBytes: 1 << 20,
          ...RETENTION,
        },
      },
      logger,
    );
    stores.push(store);
    return store;
  }

  beforeAll(async () => {
    redis = await startRedisSentinel();
  }, 60_000);

  afterAll(async () => {
    for (const store of stores) await store.close().catch(() => {});
    await redis?.stop();
  });

  async function newPanel(store: RedisStore): Promise<string> {
    ids += 1;
    const id = `p${ids}`;
    await store.create(
      {
        id,
        epoch: 'e',
        definition: '{}',
        title: 't',
        tools: [],
        state: new Map([['n', '0']]),
        createdAt: 'now',
      },
      60_000,
    );
    await store.admit(id);
    return id;
  }

  async function commit(store: RedisStore, id: string, to: number) {
    const lease = await store.lease(id, undefined, Date.now() + 10_000);
    if (lease === 'gone') throw new Error('no panel');
    return lease.commit(increment(to));
  }

  it('acknowledges a commit once the replica holds it, and publishes its PATCH only then', async () => {
    const store = storeOf(0);
    await store.start();
    const id = await newPanel(store);
    const heard: FeedMessage[] = [];
    const unsubscribe = await store.subscribe(id, (message) => heard.push(message));
    const primary = await redis.primary();
    const replica = 1 - primary;

    await expect(commit(store, id, 1)).resolves.toMatchObject({ status: 'ok', version: 1 });
    // Acknowledged: the replica has it now, whatever happens to the primary next.
    expect(await redis.cliNode(replica, 'HGET', panelKeys(PREFIX, id).meta, 'v')).toBe('1');
    await eventually('the PATCH', () => (heard.length > 0 ? true : undefined));
    expect(heard).toEqual([expect.objectContaining({ kind: 'patch', version: 1 })]);

    // The replica is cut off: the commit applies on the primary but is not acknowledged, and
    // no subscriber is told about it.
    redis.pauseNode(replica, true);
    try {
      const lease = await store.lease(id, undefined, Date.now() + 10_000);
      if (lease === 'gone') throw new Error('no panel');
      await expect(
        lease.commit({
          ...increment(2),
          request: { key: 'k-2', record: '{"status":"success"}', expiresAt: Date.now() + 60_000 },
        }),
      ).rejects.toMatchObject({
        code: 'COMMIT_UNCONFIRMED',
        message: expect.stringContaining('may be applied'),
      });
      // A retry of that request is not answered from a record a promotion could still undo.
      await expect(store.lease(id, undefined, Date.now() + 10_000, 'k-2')).rejects.toMatchObject({
        code: 'STORE_UNAVAILABLE',
      });
      // A client resuming now is not shown it either: the read waits for the replica too.
      await expect(store.history(id, 1, 'e')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    } finally {
      redis.pauseNode(replica, false);
    }
    expect(await redis.cliNode(primary, 'HGET', panelKeys(PREFIX, id).meta, 'v')).toBe('2');
    // Once the replica holds it, the retry finds the record: the request was applied.
    const retried = await eventually('the record to be confirmed', () =>
      store.lease(id, undefined, Date.now() + 10_000, 'k-2').catch(() => undefined),
    );
    if (retried === 'gone') throw new Error('no panel');
    expect(retried.recorded).toBe('{"status":"success"}');
    await retried.release();
    expect(heard.filter((message) => message.kind === 'patch')).toHaveLength(1);
    // Once the replica caught up it is history like any version: a resuming client reads it.
    await expect(
      eventually('the history to be confirmed', () => store.history(id, 1, 'e')),
    ).resolves.toMatchObject({ kind: 'history', version: 2 });
    unsubscribe();
  });

  it('follows the promoted replica; neither a lease taken on the old primary nor a kernel cut off with it can commit', async () => {
    // A lease long enough that no renewal runs during the test: a starved kernel's.
    const stalled = storeOf(1, 600_000);
    const other = storeOf(2);
    await stalled.start();
    await other.start();
    const id = await newPanel(other);
    await expect(commit(other, id, 1)).resolves.toMatchObject({ status: 'ok', version: 1 });
    const old = await redis.primary();
    // A kernel that reaches the old primary only (a standalone link to it: a network partition
    // that leaves the two together).
    const cutOff = new RedisStore(
      new RedisLink(
        {
          url: `redis://127.0.0.1:${redis.nodePorts[old]}`,
          topology: 'standalone',
          commandTimeoutMs: 500,
          name: 'cut-off',
        },
        logger,
      ),
      {
        prefix: PREFIX,
        origin: 'cut-off',
        leaseMs: 600_000,
        ack: { replicas: 1, timeoutMs: ACK_TIMEOUT_MS },
        limits: {
          maxPanels: 100,
          maxStateBytes: 1 << 20,
          historyLength: 16,
          historyBytes: 1 << 20,
          ...RETENTION,
        },
      },
      logger,
    );
    stores.push(cutOff);
    await cutOff.start();

    const lease = await stalled.lease(id, undefined, Date.now() + 10_000);
    if (lease === 'gone') throw new Error('no panel');
    // The old primary is cut off from everyone (not dead: when it answers again it is a primary
    // with no replica until the Sentinels demote it), and the Sentinels promote the replica.
    redis.pauseNode(old, true);
    let promoted: number;
    try {
      promoted = await redis.promotedFrom(old);
    } finally {
      redis.pauseNode(old, false);
    }
    // The old primary refuses the write (no replica: NOREPLICAS, nothing applied), or applies it
    // with no replica to acknowledge it (503, may be applied): never an acknowledged commit.
    await expect(commit(cutOff, id, 50)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    // Its pod restarts: it follows the new primary and drops what nobody acknowledged.
    await redis.killNode(old);
    await redis.startNode(old);
    await redis.replicating(old);
    // The other kernel found the new primary by itself and commits. A commit applied but not
    // acknowledged in time would not be retried blindly: the state is read first.
    const applied = await eventually(
      'a commit on the new primary',
      async () => {
        // The stalled kernel's lease lapses on the primary: its holder was starved past it, or the
        // lock had not reached the replica when the old primary was lost. On the primary the
        // Sentinels name now: on a busy machine a first failover may be aborted and tried again.
        await redis.cliNode(await redis.primary(), 'DEL', panelKeys(PREFIX, id).lock);
        const read = await other.readState(id);
        if (read === 'gone') throw new Error('no panel');
        const version = read.state!.version;
        return version > 1 ? version : (await commit(other, id, version + 1)).status === 'ok' ? 2 : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(applied).toBe(2);
    // The kernel that leased the panel on the old primary commits now: refused as lost (the
    // panel moved on), never applied.
    await expect(lease.commit(increment(99))).resolves.toEqual({ status: 'lost' });
    // The acknowledged versions, gap-free, on the primary and on the old one, now its replica.
    await eventually("the old primary to hold the new primary's data", async () =>
      (await redis.cliNode(old, 'HGET', panelKeys(PREFIX, id).meta, 'v')) === '2' ? true : undefined,
    );
    expect(await redis.cliNode(promoted, 'HGET', panelKeys(PREFIX, id).state, 'n')).toBe('2');
    await expect(commit(stalled, id, 3)).resolves.toMatchObject({ status: 'ok', version: 3 });
  }, 90_000);

  it('never writes to a demoted primary: after a switch of roles, commits go to the new primary', async () => {
    const store = storeOf(3);
    await store.start();
    const id = await newPanel(store);
    await expect(commit(store, id, 1)).resolves.toMatchObject({ status: 'ok', version: 1 });
    const old = await redis.primary();
    // A failover the Sentinels are asked for: the old primary stays up and becomes a replica,
    // which answers writes READONLY.
    expect(await redis.sentinelCli('SENTINEL', 'FAILOVER', redis.masterName)).toBe('OK');
    const promoted = await redis.promotedFrom(old);
    const applied = await eventually(
      'a commit after the switch',
      async () => {
        const read = await store.readState(id);
        if (read === 'gone') throw new Error('no panel');
        const version = read.state!.version;
        return version > 1 ? version : (await commit(store, id, 2)).status === 'ok' ? 2 : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(applied).toBe(2);
    expect(await redis.cliNode(promoted, 'HGET', panelKeys(PREFIX, id).meta, 'v')).toBe('2');
    // The demoted node follows the new primary and holds what was acknowledged there.
    await redis.replicating(old);
    await eventually('the demoted node to hold version 2', async () =>
      (await redis.cliNode(old, 'HGET', panelKeys(PREFIX, id).meta, 'v')) === '2' ? true : undefined,
    );
  }, 60_000);
});
