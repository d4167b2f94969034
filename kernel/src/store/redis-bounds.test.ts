// The Redis store keeps its budgets whatever a caller hands it, and recovers from what a crash
// leaves: a PATCH frame larger than STORE_HISTORY_BYTES is neither kept in the history nor
// carried on the feed (subscribers and resuming clients take the state instead); with Redis'
// maxmemory reached a delete still succeeds and frees the panel; a panel whose kernel died while
// deleting it is removed by time and no longer counts against MAX_PANELS.

import pino from 'pino';
import { KernelError } from '../errors.js';
import { startRedis, startRedisCluster, type TestRedis } from '../testing/redis-server.js';
import { panelKeys } from './redis-keys.js';
import { maybeApplied, RedisLink } from './redis-link.js';
import { RedisStore } from './redis.js';
import type { FeedMessage, SegmentWrite, StoreLimits } from './types.js';
import { RETENTION } from '../testing/retention.js';

const logger = pino({ level: 'silent' });
const PREFIX = 'bounds:';
const MiB = 1024 * 1024;
/** The figures the tests name: 1 MiB of state and of history per panel. */
const LIMITS: StoreLimits = {
  maxPanels: 1000,
  maxStateBytes: MiB,
  historyLength: 16,
  historyBytes: MiB,
  ...RETENTION,
};
/** The Redis' maxmemory (per node on the Cluster) until a test lowers it to what is used. */
const MAXMEMORY = '64mb';

function write(key: string, json: string | undefined, padding = 0): SegmentWrite {
  return {
    mutations: [json === undefined ? { key } : { key, json }],
    patchPrefix: `{"type":"PATCH","pad":"${'p'.repeat(padding)}","version":`,
    patchSuffix: '}',
    eventFrames: [],
  };
}

const eventually = async <T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> => {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

describe.each([
  ['standalone', startRedis],
  ['cluster', startRedisCluster],
] as const)('the Redis store (%s) keeps its budgets', (_name, start) => {
  let redis: TestRedis;
  let stores: RedisStore[];
  let ids = 0;

  beforeAll(async () => {
    redis = await start({ maxmemory: MAXMEMORY });
    stores = [0, 1].map(
      (n) =>
        new RedisStore(
          new RedisLink(
            { url: redis.url, topology: redis.topology, commandTimeoutMs: 5000, name: `bounds-${n}` },
            logger,
          ),
          { prefix: PREFIX, origin: `kernel-${n}`, leaseMs: 60_000, limits: LIMITS },
          logger,
        ),
    );
    for (const store of stores) await store.start();
  }, 120_000);

  afterAll(async () => {
    for (const store of stores ?? []) await store.close();
    await redis?.stop();
  });

  async function newPanel(state: [string, string][] = [['n', '0']], store = stores[0]!): Promise<string> {
    ids += 1;
    const id = `p${ids}`;
    await store.create(
      { id, epoch: 'e', definition: '{}', title: 't', tools: [], state: new Map(state), createdAt: 'now' },
      60_000,
    );
    await store.admit(id);
    return id;
  }

  async function commit(id: string, segment: SegmentWrite, store = stores[0]!) {
    const lease = await store.lease(id, undefined, Date.now() + 10_000);
    if (lease === 'gone') throw new Error('no panel');
    return lease.commit(segment);
  }

  it('keeps no frame larger than STORE_HISTORY_BYTES, and carries a notice of it on the feed', async () => {
    const id = await newPanel();
    const heard: FeedMessage[] = [];
    const unsubscribe = await stores[1]!.subscribe(id, (message) => heard.push(message));
    try {
      await expect(commit(id, write('n', '1'))).resolves.toMatchObject({ status: 'ok', version: 1 });
      expect(await redis.cli('LLEN', panelKeys(PREFIX, id).history)).toBe('1');
      // The state is unchanged in size, but the frame carries 3 MiB (every mutation, say).
      await expect(commit(id, write('n', '2', 3 * MiB))).resolves.toMatchObject({
        status: 'ok',
        version: 2,
      });
      expect(await redis.cli('LLEN', panelKeys(PREFIX, id).history)).toBe('0');
      expect(Number(await redis.cli('HGET', panelKeys(PREFIX, id).meta, 'hb'))).toBe(0);
      // A client that saw version 1 takes the whole state; one at version 2 is up to date.
      await expect(stores[1]!.history(id, 1, 'e')).resolves.toMatchObject({
        kind: 'snapshot',
        state: { version: 2, entries: new Map([['n', '2']]) },
      });
      await expect(stores[1]!.history(id, 2, 'e')).resolves.toEqual({
        kind: 'history',
        version: 2,
        epoch: 'e',
        revision: 1,
        frames: [],
      });
      const notice = await eventually('the feed to carry version 2', () =>
        Promise.resolve(heard.find((m) => m.kind === 'patch' && m.version === 2)),
      );
      expect(notice).toEqual({ kind: 'patch', origin: 'kernel-0', version: 2, frame: '' });
      // Frames within the budget are kept again afterwards.
      await expect(commit(id, write('n', '3'))).resolves.toMatchObject({ status: 'ok', version: 3 });
      await expect(stores[1]!.history(id, 2, 'e')).resolves.toMatchObject({
        kind: 'history',
        frames: [expect.stringContaining('"version":3')],
      });
    } finally {
      unsubscribe();
    }
  });

  /** Lowers every node's maxmemory to what it uses now, less `below`: the store is full. */
  async function fill(below: number): Promise<void> {
    const infos = await redis.cliEach('INFO', 'memory');
    for (const [node, info] of infos.entries()) {
      const used = Number(/used_memory:(\d+)/.exec(info)?.[1]);
      await redis.cliNode(node, 'CONFIG', 'SET', 'maxmemory', String(Math.max(MiB, used - below)));
    }
  }

  it('deletes a panel when maxmemory is reached, and works again once that freed memory', async () => {
    const big = JSON.stringify('x'.repeat(900_000));
    const created: string[] = [];
    for (let i = 0; i < 18; i += 1)
      created.push(
        await newPanel([
          ['a', big],
          ['n', '0'],
        ]),
      );
    // A segment that took its lease before the store filled up.
    const held = await stores[0]!.lease(created[1]!, undefined, Date.now() + 10_000);
    if (held === 'gone') throw new Error('no panel');
    // Past what Redis' own buffers (a connection's query buffer) may give back meanwhile.
    await fill(1.5 * MiB);
    try {
      // Writes that need memory are refused as retryable, saying why, and not applied.
      const refusal = await newPanel().catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(KernelError);
      expect(refusal).toMatchObject({ code: 'STORE_UNAVAILABLE', status: 503 });
      expect((refusal as Error).message).toMatch(/maxmemory/);
      // Known not to have been applied: not retried as an unanswered commit would be.
      expect(maybeApplied(refusal)).toBe(false);
      await expect(commit(created[0]!, write('b', '"more"'))).rejects.toMatchObject({
        status: 503,
        message: expect.stringMatching(/^the panel store is full/),
      });
      await expect(stores[0]!.readState(created[0]!)).resolves.toMatchObject({ state: { version: 0 } });
      // Also a segment whose first write needs no memory (deleting a key) and the next one does.
      const sneaky: SegmentWrite = {
        mutations: [{ key: 'n' }, { key: 'b', json: JSON.stringify('y'.repeat(100_000)) }],
        patchPrefix: '{"type":"PATCH","version":',
        patchSuffix: '}',
        eventFrames: [],
      };
      await expect(held.commit(sneaky)).rejects.toMatchObject({ status: 503 });
      await expect(stores[0]!.readState(created[1]!)).resolves.toMatchObject({ state: { version: 0 } });
      await redis.cli('DEL', panelKeys(PREFIX, created[1]!).lock);

      // Every delete succeeds while the store is full (on the Cluster, panels of every node).
      for (const id of created) {
        await expect(stores[1]!.beginDelete(id, 60_000)).resolves.toBe(true);
        await stores[1]!.finishDelete(id);
        await expect(stores[0]!.get(id)).resolves.toBeUndefined();
      }
      // And the store takes writes again.
      const id = await newPanel([['a', big]]);
      await expect(commit(id, write('n', '1'))).resolves.toMatchObject({ status: 'ok' });
      await stores[0]!.beginDelete(id, 60_000);
      await stores[0]!.finishDelete(id);
    } finally {
      await redis.cliEach('CONFIG', 'SET', 'maxmemory', MAXMEMORY);
    }
  }, 120_000);

  it('removes by time a panel whose kernel died while deleting it, and stops counting it', async () => {
    const limited = new RedisStore(
      new RedisLink(
        { url: redis.url, topology: redis.topology, commandTimeoutMs: 5000, name: 'bounds-limited' },
        logger,
      ),
      { prefix: 'zombie:', origin: 'kernel-z', leaseMs: 60_000, limits: { ...LIMITS, maxPanels: 2 } },
      logger,
    );
    await limited.start();
    try {
      await newPanel([['n', '0']], limited);
      const dying = await newPanel([['n', '0']], limited);
      await expect(newPanel([['n', '0']], limited)).rejects.toMatchObject({ code: 'PANEL_LIMIT_REACHED' });
      // The kernel marks the panel deleting, then dies before removing it.
      await expect(limited.beginDelete(dying, 300)).resolves.toBe(true);
      await expect(limited.get(dying)).resolves.toMatchObject({ phase: 'deleting' });
      // Any kernel: once the mark lapsed the panel is gone and its place is free again.
      const id = await eventually('a new panel to be created', () => newPanel([['n', '0']], limited));
      expect(id).toBeDefined();
      await expect(limited.get(dying)).resolves.toBeUndefined();
      expect((await limited.list()).map((panel) => panel.id)).not.toContain(dying);
      await expect(limited.beginDelete(dying, 300)).resolves.toBe(false);
    } finally {
      await limited.close();
    }
  }, 60_000);

  it('forgets a listed panel whose kernel died before making it permanent', async () => {
    const limited = new RedisStore(
      new RedisLink(
        { url: redis.url, topology: redis.topology, commandTimeoutMs: 5000, name: 'bounds-creating' },
        logger,
      ),
      { prefix: 'creating:', origin: 'kernel-c', leaseMs: 60_000, limits: { ...LIMITS, maxPanels: 1 } },
      logger,
    );
    await limited.start();
    try {
      // Reserved, written (expiring with the mount's time) and listed; then the kernel died
      // before FINALIZE made it permanent.
      await limited.create(
        {
          id: 'half',
          epoch: 'e',
          definition: '{}',
          title: 't',
          tools: [],
          state: new Map(),
          createdAt: 'now',
        },
        300,
      );
      await (limited as unknown as { settle(id: string, listed: boolean): Promise<void> }).settle(
        'half',
        true,
      );
      await expect(newPanel([['n', '0']], limited)).rejects.toMatchObject({ code: 'PANEL_LIMIT_REACHED' });
      await eventually('a new panel to be created', () => newPanel([['n', '0']], limited));
      await expect(limited.get('half')).resolves.toBeUndefined();
    } finally {
      await limited.close();
    }
  }, 60_000);
});
