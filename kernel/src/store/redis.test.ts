// The Redis store's lease and commit against a real redis-server: fencing refuses a segment when
// another kernel used the panel after this kernel's lease lapsed, applies it when nobody did, a
// commit sent twice with one token applies once, and a command whose answer arrived while the
// event loop was blocked is not reported as a timeout.

import pino from 'pino';
import { startRedis, type TestRedis } from '../testing/redis-server.js';
import { commitMarkerKey, panelKeys } from './redis-keys.js';
import { RedisLink } from './redis-link.js';
import * as scripts from './redis-scripts.js';
import { RedisStore } from './redis.js';
import type { SegmentWrite } from './types.js';
import { RETENTION } from '../testing/retention.js';

const logger = pino({ level: 'silent' });
const PREFIX = 'unit:';
// Long enough that no renewal runs during a test: a lapse is simulated by expiring the key.
const LEASE_MS = 60_000;

function increment(to: number): SegmentWrite {
  return {
    mutations: [{ key: 'n', json: String(to) }],
    patchPrefix: '{"type":"PATCH","version":',
    patchSuffix: '}',
    eventFrames: [],
  };
}

/** Blocks the event loop, as a starved kernel's would be. */
function block(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // spin
  }
}

describe('the Redis store under a stalled kernel', () => {
  let redis: TestRedis;
  let links: RedisLink[];
  let stores: RedisStore[];
  let ids = 0;

  beforeAll(async () => {
    redis = await startRedis();
    links = [0, 1].map(
      (n) =>
        new RedisLink(
          { url: redis.url, topology: 'standalone', commandTimeoutMs: 100, name: `unit-${n}` },
          logger,
        ),
    );
    stores = links.map(
      (link, n) =>
        new RedisStore(
          link,
          {
            prefix: PREFIX,
            origin: `kernel-${n}`,
            leaseMs: LEASE_MS,
            limits: {
              maxPanels: 100,
              maxStateBytes: 1 << 20,
              historyLength: 16,
              historyBytes: 1 << 20,
              ...RETENTION,
            },
          },
          logger,
        ),
    );
    for (const store of stores) await store.start();
  }, 60_000);

  afterAll(async () => {
    for (const store of stores ?? []) await store.close();
    await redis?.stop();
  });

  async function newPanel(): Promise<string> {
    ids += 1;
    const id = `p${ids}`;
    await stores[0]!.create(
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
    await stores[0]!.admit(id);
    return id;
  }

  /** The lease lapses, as when its kernel was starved past LEASE_MS: Redis drops the key. */
  async function lapse(id: string): Promise<void> {
    expect(await redis.cli('DEL', panelKeys(PREFIX, id).lock)).toBe('1');
  }

  it('refuses a segment by fencing when another kernel used the panel after the lease lapsed', async () => {
    const id = await newPanel();
    const stalled = await stores[0]!.lease(id, undefined, Date.now() + 10_000);
    if (stalled === 'gone') throw new Error('no panel');
    await lapse(id);
    const other = await stores[1]!.lease(id, undefined, Date.now() + 10_000);
    if (other === 'gone') throw new Error('no panel');
    await expect(other.commit(increment(1))).resolves.toMatchObject({ status: 'ok', version: 1 });
    await expect(stalled.commit(increment(1))).resolves.toEqual({ status: 'lost' });
    await expect(stores[0]!.readState(id)).resolves.toMatchObject({
      state: { version: 1, entries: new Map([['n', '1']]) },
    });
  });

  it('applies a segment whose lease lapsed when nobody used the panel meanwhile', async () => {
    const id = await newPanel();
    const stalled = await stores[0]!.lease(id, undefined, Date.now() + 10_000);
    if (stalled === 'gone') throw new Error('no panel');
    await lapse(id);
    await expect(stalled.commit(increment(1))).resolves.toMatchObject({ status: 'ok', version: 1 });
    // And the panel is free for the next one.
    const next = await stores[1]!.lease(id, undefined, Date.now() + 10_000);
    if (next === 'gone') throw new Error('no panel');
    await expect(next.commit(increment(2))).resolves.toMatchObject({ status: 'ok', version: 2 });
  });

  it('applies a commit sent twice with one token once (an unanswered attempt retried)', async () => {
    const id = await newPanel();
    const keys = panelKeys(PREFIX, id);
    const token = 'kernel-0:retried';
    await redis.cli('SET', keys.lock, token, 'PX', '60000');
    const args = [
      token,
      1 << 20,
      16,
      1 << 20,
      'kernel-0',
      keys.channel,
      '{"v":',
      '}',
      0,
      0,
      'e',
      60_000,
      1 << 20,
      '',
      '',
      '',
      10,
      '1',
      'request-1',
      'its record',
      Date.now() + 60_000,
      100,
      Date.now(),
    ];
    const commitKeys = [
      keys.meta,
      keys.state,
      keys.history,
      keys.lock,
      commitMarkerKey(PREFIX, id, token),
      keys.definition,
      keys.revisions,
      keys.requests,
      keys.requestExpiry,
    ];
    const first = await links[0]!.run(scripts.COMMIT, commitKeys, [...args, 's', 'n', '1']);
    const again = await links[0]!.run(scripts.COMMIT, commitKeys, [...args, 's', 'n', '1']);
    expect(first).toEqual(['ok', 1, 6, 1]);
    expect(again).toEqual(['ok', 1, 6, 1]);
    await expect(stores[0]!.readState(id)).resolves.toMatchObject({ state: { version: 1 } });
    expect(await redis.cli('LLEN', keys.history)).toBe('1');
    expect(await redis.cli('HGET', keys.requests, 'request-1')).toBe('its record');
  });

  it('reads an answer that arrived while the event loop was blocked instead of timing out', async () => {
    // STORE_TIMEOUT_MS is 100 ms here; the answer is in the socket long before the loop looks.
    const answer = links[0]!.command('any', ['PING']);
    block(400);
    await expect(answer).resolves.toBe('PONG');
  });
});
