// The feed contract every store engine honours (types.ts, PanelEvents), run against each engine:
// the embedded one, Redis and Redis Cluster. A store announces every change on the panel's feed
// to every subscriber, the publishing kernel's own included: a commit as its PATCH (or, when the
// frame is too large for the feed, a notice of its version) followed by its events; a published
// frame as an event; a panel removed in any way — deleted, discarded, or by the store itself once
// its deleting mark lapsed — as `deleted`. An unsubscribed listener hears nothing more, and a
// listener hears only its own panel.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startRedis, startRedisCluster } from '../testing/redis-server.js';
import { EmbeddedStore } from './embedded.js';
import { RedisLink } from './redis-link.js';
import { RedisStore } from './redis.js';
import type { FeedMessage, PanelStore, SegmentWrite, StoreLimits } from './types.js';
import { eventually } from '../testing/eventually.js';
import { RETENTION } from '../testing/retention.js';

const logger = pino({ level: 'silent' });
const MiB = 1024 * 1024;
/** 1 MiB of state and of history: a frame past 1 MiB + 64 KiB travels as a notice. */
const LIMITS: StoreLimits = {
  maxPanels: 100,
  maxStateBytes: MiB,
  historyLength: 16,
  historyBytes: MiB,
  ...RETENTION,
};
const ORIGIN = 'kernel-a';

interface Opened {
  readonly store: PanelStore;
  close(): Promise<void>;
}

const engines: [string, () => Promise<Opened>][] = [
  [
    'embedded',
    async () => {
      const directory = await mkdtemp(join(tmpdir(), 'nexus-contract-'));
      const store = new EmbeddedStore(directory, LIMITS, logger, ORIGIN);
      await store.start();
      return {
        store,
        close: async () => {
          await store.close();
          await rm(directory, { recursive: true, force: true });
        },
      };
    },
  ],
  ...(['standalone', 'cluster'] as const).map((topology): [string, () => Promise<Opened>] => [
    `redis (${topology})`,
    async () => {
      const redis = await (topology === 'standalone' ? startRedis() : startRedisCluster());
      const store = new RedisStore(
        new RedisLink({ url: redis.url, topology, commandTimeoutMs: 5000, name: 'contract' }, logger),
        { prefix: 'contract:', origin: ORIGIN, leaseMs: 60_000, limits: LIMITS },
        logger,
      );
      await store.start();
      return {
        store,
        close: async () => {
          await store.close();
          await redis.stop();
        },
      };
    },
  ]),
];

function segment(n: number, events: string[] = [], padding = 0): SegmentWrite {
  return {
    mutations: [{ key: 'n', json: String(n) }],
    patchPrefix: `{"type":"PATCH","pad":"${'p'.repeat(padding)}","version":`,
    patchSuffix: '}',
    eventFrames: events,
  };
}

/** A panel with state `{n: 0}`, admitted (listed and served) unless `admit` is false. */
async function createPanel(store: PanelStore, id: string, admit = true): Promise<string> {
  await store.create(
    {
      id,
      epoch: 'e',
      definition: '{"title":"t","tools":{}}',
      title: 't',
      tools: [],
      state: new Map([['n', '0']]),
      createdAt: 'now',
    },
    60_000,
  );
  if (admit) await store.admit(id);
  return id;
}

describe.each(engines)('the %s store honours the feed contract', (_name, open) => {
  let opened: Opened;
  let store: PanelStore;
  let ids = 0;

  beforeAll(async () => {
    opened = await open();
    store = opened.store;
  }, 120_000);
  afterAll(async () => {
    await opened?.close();
  });

  async function newPanel(admit = true): Promise<string> {
    ids += 1;
    return createPanel(store, `c${ids}`, admit);
  }

  async function listen(id: string): Promise<{ heard: FeedMessage[]; stop: () => void }> {
    const heard: FeedMessage[] = [];
    const stop = await store.subscribe(id, (message) => heard.push(message));
    return { heard, stop };
  }

  async function commit(id: string, write: SegmentWrite) {
    const lease = await store.lease(id, undefined, Date.now() + 10_000);
    if (lease === 'gone') throw new Error('no panel');
    return lease.commit(write);
  }

  it('announces a commit to its own subscribers: the PATCH, then its events, in order', async () => {
    const id = await newPanel();
    const { heard, stop } = await listen(id);
    try {
      await expect(commit(id, segment(1, ['{"type":"EVENT","n":1}']))).resolves.toMatchObject({
        status: 'ok',
        version: 1,
      });
      await commit(id, segment(2));
      await eventually('two versions', () => (heard.length >= 3 ? true : undefined));
      expect(heard).toEqual([
        { kind: 'patch', origin: ORIGIN, version: 1, frame: '{"type":"PATCH","pad":"","version":1}' },
        { kind: 'event', origin: ORIGIN, frame: '{"type":"EVENT","n":1}' },
        { kind: 'patch', origin: ORIGIN, version: 2, frame: '{"type":"PATCH","pad":"","version":2}' },
      ]);
    } finally {
      stop();
    }
  });

  it('announces a published frame, and the events of a segment that changed nothing', async () => {
    const id = await newPanel();
    const { heard, stop } = await listen(id);
    try {
      await store.publish(id, '{"type":"PROGRESS"}');
      await expect(
        commit(id, { mutations: [], patchPrefix: '', patchSuffix: '', eventFrames: ['{"type":"EVENT"}'] }),
      ).resolves.toMatchObject({ status: 'ok', version: 0 });
      await eventually('two events', () => (heard.length >= 2 ? true : undefined));
      expect(heard).toEqual([
        { kind: 'event', origin: ORIGIN, frame: '{"type":"PROGRESS"}' },
        { kind: 'event', origin: ORIGIN, frame: '{"type":"EVENT"}' },
      ]);
    } finally {
      stop();
    }
  });

  it('announces a version whose frame is too large for the feed without its frame', async () => {
    const id = await newPanel();
    const { heard, stop } = await listen(id);
    try {
      await commit(id, segment(1, [], MiB + 128 * 1024));
      await eventually('the notice', () => (heard.length >= 1 ? true : undefined));
      expect(heard).toEqual([{ kind: 'patch', origin: ORIGIN, version: 1, frame: '' }]);
    } finally {
      stop();
    }
  });

  it('announces a deleted panel and a discarded creation', async () => {
    const id = await newPanel();
    const deleted = await listen(id);
    const unadmitted = await newPanel(false);
    const discarded = await listen(unadmitted);
    try {
      await expect(store.beginDelete(id, 60_000)).resolves.toBe(true);
      await store.finishDelete(id);
      await store.discard(unadmitted);
      await eventually('both deletions', () =>
        deleted.heard.length > 0 && discarded.heard.length > 0 ? true : undefined,
      );
      expect(deleted.heard).toEqual([{ kind: 'deleted', origin: ORIGIN }]);
      expect(discarded.heard).toEqual([{ kind: 'deleted', origin: ORIGIN }]);
    } finally {
      deleted.stop();
      discarded.stop();
    }
  });

  it('announces a panel it removed itself once its deleting mark lapsed', async () => {
    const id = await newPanel();
    const { heard, stop } = await listen(id);
    try {
      // The deleting kernel died before removing it: the store meets the lapsed panel on a read.
      await expect(store.beginDelete(id, 200)).resolves.toBe(true);
      await eventually('the lapsed panel to be announced', async () => {
        await store.list();
        return heard.length > 0 ? true : undefined;
      });
      expect(heard).toEqual([{ kind: 'deleted', origin: ORIGIN }]);
      await expect(store.get(id)).resolves.toBeUndefined();
    } finally {
      stop();
    }
  });

  it('tells a listener nothing of other panels, nor anything once it unsubscribed', async () => {
    const id = await newPanel();
    const other = await newPanel();
    const first = await listen(id);
    const second = await listen(id);
    const others = await listen(other);
    try {
      second.stop();
      await commit(id, segment(1));
      await eventually('the commit', () => (first.heard.length > 0 ? true : undefined));
      // The other panel's own change, heard by its listener, is a bound on how late the first would be.
      await commit(other, segment(1));
      await eventually("the other panel's commit", () => (others.heard.length > 0 ? true : undefined));
      expect(first.heard).toHaveLength(1);
      expect(second.heard).toEqual([]);
      expect(others.heard).toEqual([
        { kind: 'patch', origin: ORIGIN, version: 1, frame: '{"type":"PATCH","pad":"","version":1}' },
      ]);
    } finally {
      first.stop();
      others.stop();
    }
  });
});

// Request records (SegmentWrite.request): kept with the commit that carries them, handed to the
// lease that names their key until they expire, bounded per panel, never kept by a refused commit.
describe.each(engines)('the %s store keeps request records', (_name, open) => {
  let opened: Opened;
  let store: PanelStore;
  let ids = 0;

  beforeAll(async () => {
    opened = await open();
    store = opened.store;
  }, 120_000);
  afterAll(async () => {
    await opened?.close();
  });

  async function newPanel(): Promise<string> {
    ids += 1;
    return createPanel(store, `r${ids}`);
  }

  async function leased(id: string, key?: string) {
    const lease = await store.lease(id, undefined, Date.now() + 10_000, key);
    if (lease === 'gone') throw new Error('no panel');
    return lease;
  }

  const recording = (key: string, record: string, write: SegmentWrite, ttlMs = 60_000): SegmentWrite => ({
    ...write,
    request: { key, record, expiresAt: Date.now() + ttlMs },
  });
  const nothing: SegmentWrite = { mutations: [], patchPrefix: '', patchSuffix: '', eventFrames: [] };

  it('hands a record to the lease that names its key, with the commit that kept it', async () => {
    const id = await newPanel();
    await expect((await leased(id)).commit(recording('k1', 'first', segment(1)))).resolves.toMatchObject({
      status: 'ok',
      version: 1,
    });
    const again = await leased(id, 'k1');
    expect(again.recorded).toBe('first');
    await again.release();
    for (const key of [undefined, 'k2']) {
      const other = await leased(id, key);
      expect(other.recorded).toBeUndefined();
      await other.release();
    }
    // A record alone changes nothing else; a later record under the key replaces it.
    await expect((await leased(id)).commit(recording('k1', 'second', nothing))).resolves.toMatchObject({
      status: 'ok',
      version: 1,
    });
    const replaced = await leased(id, 'k1');
    expect(replaced.recorded).toBe('second');
    await replaced.release();
  });

  it('keeps no record of a refused commit, nor an expired one, nor more than requestKeys', async () => {
    const id = await newPanel();
    const tooLarge = {
      mutations: [{ key: 'big', json: `"${'x'.repeat(MiB)}"` }],
      patchPrefix: '',
      patchSuffix: '',
      eventFrames: [],
    };
    await expect((await leased(id)).commit(recording('big', 'r', tooLarge))).resolves.toMatchObject({
      status: 'too_large',
    });
    await (await leased(id)).commit(recording('brief', 'r', segment(1), 1));
    await new Promise((resolve) => setTimeout(resolve, 20));
    for (let n = 0; n <= LIMITS.requestKeys; n += 1)
      await (await leased(id)).commit(recording(`n${n}`, `r${n}`, nothing));
    for (const [key, recorded] of [
      ['big', undefined],
      ['brief', undefined],
      ['n0', undefined],
      ['n1', 'r1'],
      [`n${LIMITS.requestKeys}`, `r${LIMITS.requestKeys}`],
    ] as const) {
      const lease = await leased(id, key);
      expect({ key, recorded: lease.recorded }).toEqual({ key, recorded });
      await lease.release();
    }
  });
});
