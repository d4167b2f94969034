// The log ring (types.ts, PanelLogs) against each engine — embedded, Redis, Redis Cluster: lines
// numbered per panel, bounded by PANEL_LOG_LINES and PANEL_LOG_BYTES (oldest dropped first), read
// after a seq, announced on the panel's feed, refused for a panel that is gone or being deleted,
// and removed with the panel (a new panel with the same id starts empty).

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startRedis, startRedisCluster } from '../testing/redis-server.js';
import { eventually } from '../testing/eventually.js';
import { EmbeddedStore } from './embedded.js';
import { RedisLink } from './redis-link.js';
import { panelKeys } from './redis-keys.js';
import { RedisStore } from './redis.js';
import type { FeedMessage, NewLogLine, PanelStore, StoreLimits } from './types.js';

const logger = pino({ level: 'silent' });
/** A small ring: 5 lines, 1 KiB. */
const LIMITS: StoreLimits = {
  maxPanels: 100,
  maxStateBytes: 1024 * 1024,
  historyLength: 16,
  historyBytes: 1024 * 1024,
  revisions: 10,
  requestKeys: 100,
  logLines: 5,
  logBytes: 1024,
};
const ORIGIN = 'kernel-a';

interface Opened {
  readonly store: PanelStore;
  /** Redis only: the PTTL of the panel's ring key (-1: permanent, -2: none). */
  ringTtl?(id: string): Promise<number>;
  close(): Promise<void>;
}

const engines: [string, () => Promise<Opened>][] = [
  [
    'embedded',
    async () => {
      const directory = await mkdtemp(join(tmpdir(), 'nexus-logs-'));
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
        new RedisLink({ url: redis.url, topology, commandTimeoutMs: 5000, name: 'logs' }, logger),
        { prefix: 'logs:', origin: ORIGIN, leaseMs: 60_000, limits: LIMITS },
        logger,
      );
      await store.start();
      return {
        store,
        ringTtl: async (id) => Number(await redis.cli('PTTL', panelKeys('logs:', id).logs)),
        close: async () => {
          await store.close();
          await redis.stop();
        },
      };
    },
  ]),
];

function line(message: string, extra: Partial<NewLogLine> = {}): NewLogLine {
  return { at: 1000, level: 'info', message, tool: 't', kind: 'tool', source: 'handler', ...extra };
}

describe.each(engines)('the %s store keeps a bounded log ring per panel', (_name, open) => {
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

  async function newPanel(id = `p${++ids}`, admit = true): Promise<string> {
    await store.create(
      {
        id,
        epoch: `e${ids}`,
        definition: '{"title":"t","tools":{}}',
        title: 't',
        tools: [],
        state: new Map(),
        createdAt: 'now',
      },
      60_000,
    );
    if (admit) await store.admit(id);
    return id;
  }

  it('numbers the lines of a panel and reads them after a seq, newest within a limit', async () => {
    const id = await newPanel();
    await expect(store.appendLogs(id, [line('a'), line('b', { requestId: 'r1' })])).resolves.toBe('ok');
    await store.appendLogs(id, [
      line('c', { level: 'error', location: { line: 2, column: 3 }, revision: 4, source: 'kernel' }),
    ]);
    const all = await store.readLogs(id, 0, 100);
    expect(all).toEqual({
      last: 3,
      lines: [
        { seq: 1, ...line('a') },
        { seq: 2, ...line('b', { requestId: 'r1' }) },
        {
          seq: 3,
          ...line('c', { level: 'error', location: { line: 2, column: 3 }, revision: 4, source: 'kernel' }),
        },
      ],
    });
    await expect(store.readLogs(id, 1, 100)).resolves.toMatchObject({
      last: 3,
      lines: [{ seq: 2 }, { seq: 3 }],
    });
    await expect(store.readLogs(id, 0, 1)).resolves.toMatchObject({ last: 3, lines: [{ seq: 3 }] });
    await expect(store.readLogs(id, 3, 100)).resolves.toEqual({ last: 3, lines: [] });
  });

  it('keeps at most PANEL_LOG_LINES lines, dropping the oldest', async () => {
    const id = await newPanel();
    for (let i = 1; i <= 4; i += 1) await store.appendLogs(id, [line(`${i}a`), line(`${i}b`)]);
    const read = await store.readLogs(id, 0, 100);
    expect(read).not.toBe('gone');
    if (read === 'gone') return;
    expect(read.last).toBe(8);
    expect(read.lines.map((l) => l.message)).toEqual(['2b', '3a', '3b', '4a', '4b']);
    // Reading from before the oldest kept line gives what is kept.
    await expect(store.readLogs(id, 1, 100)).resolves.toMatchObject({ lines: { length: 5 } });
  });

  it('keeps at most PANEL_LOG_BYTES bytes of lines, and never an append larger than the ring', async () => {
    const id = await newPanel();
    await store.appendLogs(id, [line('x'.repeat(300)), line('y'.repeat(300))]);
    await store.appendLogs(id, [line('z'.repeat(300))]);
    const read = await store.readLogs(id, 0, 100);
    if (read === 'gone') throw new Error('gone');
    const bytes = read.lines.reduce((sum, l) => sum + Buffer.byteLength(JSON.stringify(l)), 0);
    expect(bytes).toBeLessThanOrEqual(LIMITS.logBytes);
    expect(read.lines.map((l) => l.message[0])).toEqual(['y', 'z']);
    // One line larger than the ring's bytes: the newest lines that fit are kept, never more.
    await store.appendLogs(id, [line('q'), line('w'.repeat(2000))]);
    const after = await store.readLogs(id, 0, 100);
    if (after === 'gone') throw new Error('gone');
    expect(after.lines.reduce((sum, l) => sum + Buffer.byteLength(JSON.stringify(l)), 0)).toBeLessThanOrEqual(
      LIMITS.logBytes,
    );
  });

  it('announces appended lines on the panel feed, seq included', async () => {
    const id = await newPanel();
    const heard: FeedMessage[] = [];
    const stop = await store.subscribe(id, (message) => heard.push(message));
    try {
      await store.appendLogs(id, [line('hello'), line('world')]);
      await eventually('the log message', () => (heard.length > 0 ? true : undefined));
      expect(heard).toEqual([
        {
          kind: 'log',
          origin: ORIGIN,
          lines: [
            { seq: 1, ...line('hello') },
            { seq: 2, ...line('world') },
          ],
        },
      ]);
    } finally {
      stop();
    }
  });

  it('keeps nothing for a panel that is gone or being deleted, and removes the ring with the panel', async () => {
    await expect(store.appendLogs('nobody', [line('a')])).resolves.toBe('gone');
    await expect(store.readLogs('nobody', 0, 10)).resolves.toBe('gone');
    const id = await newPanel();
    await store.appendLogs(id, [line('before')]);
    await expect(store.beginDelete(id, 60_000)).resolves.toBe(true);
    await expect(store.appendLogs(id, [line('during')])).resolves.toBe('gone');
    await store.finishDelete(id);
    await expect(store.readLogs(id, 0, 10)).resolves.toBe('gone');
    // The same id again: a new panel, an empty ring numbered from 1.
    await newPanel(id);
    await expect(store.readLogs(id, 0, 10)).resolves.toEqual({ last: 0, lines: [] });
    await store.appendLogs(id, [line('again')]);
    await expect(store.readLogs(id, 0, 10)).resolves.toMatchObject({
      last: 1,
      lines: [{ message: 'again' }],
    });
  });

  it('keeps the lines of a mount (appended while the panel is a reservation) once it is admitted', async () => {
    const id = await newPanel(undefined, false);
    await store.appendLogs(id, [line('mounting', { kind: 'mount' })]);
    // A reservation's ring lapses with it (a kernel that dies while creating leaves nothing)…
    if (opened.ringTtl) expect(await opened.ringTtl(id)).toBeGreaterThan(0);
    await store.admit(id);
    // …and an admitted panel's is as permanent as the panel.
    if (opened.ringTtl) expect(await opened.ringTtl(id)).toBe(-1);
    await expect(store.readLogs(id, 0, 10)).resolves.toMatchObject({ lines: [{ message: 'mounting' }] });
    const discarded = await newPanel(undefined, false);
    await store.appendLogs(discarded, [line('failed mount')]);
    await store.discard(discarded);
    await expect(store.readLogs(discarded, 0, 10)).resolves.toBe('gone');
  });
});
