// A deletion reaches this kernel's subscribers the same way whichever path made it: the registry
// announces it (changes.ts) and the feeds listen, so no caller has to remember to tell them. The
// paths: a delete through the registry (the HTTP route's), a panel whose deleting kernel died and
// whose lapsed mark the store completes when it next meets it (on the embedded store and on
// Redis, where this kernel's own sweep announces it in its own name), and another kernel's delete
// heard on the store's feed.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { SchemaValidator } from '../schemas/validator.js';
import { startRedis, type TestRedis } from '../testing/redis-server.js';
import { EmbeddedStore } from '../store/embedded.js';
import { RedisLink } from '../store/redis-link.js';
import { RedisStore } from '../store/redis.js';
import type { PanelStore, StoreLimits } from '../store/types.js';
import { BytecodeCache } from './bytecode-cache.js';
import type { PanelChange } from './changes.js';
import { type FeedSink, Feeds } from './feed.js';
import { PanelRegistry } from './registry.js';
import { RETENTION } from '../testing/retention.js';

const logger = pino({ level: 'silent' });
const LIMITS: StoreLimits = {
  maxPanels: 100,
  maxStateBytes: 1 << 20,
  historyLength: 16,
  historyBytes: 1 << 20,
  ...RETENTION,
};
const DEFINITION = { title: 't', state: { n: 0 }, tools: { t: { handler: 'return 1' } } };

/** One kernel's registry and feeds over `store`, wired as kernel.ts wires them. */
function kernelOver(store: PanelStore): { registry: PanelRegistry; feeds: Feeds; changes: PanelChange[] } {
  const registry = new PanelRegistry(
    {
      maxStateBytes: LIMITS.maxStateBytes,
      defaultTimeoutMs: 1000,
      cacheMaxBytes: 1 << 20,
      mountTtlMs: 60_000,
      deleteTtlMs: 60_000,
      extensions: { names: [], registryFor: () => ({}) },
    },
    store,
    new BytecodeCache({ compile: () => Promise.resolve(Buffer.from('bytecode')) }),
    // No tool of these panels has an argument schema: nothing is asked of the validator.
    {} as SchemaValidator,
    logger,
  );
  const feeds = new Feeds(
    store,
    (id) => registry.latest(id),
    (id) => registry.removed(id),
    logger,
  );
  feeds.follow(registry.changes);
  const changes: PanelChange[] = [];
  registry.changes.on((change) => changes.push(change));
  return { registry, feeds, changes };
}

class Sink implements FeedSink {
  readonly open = true;
  deleted = false;
  send(): void {}
  panelDeleted(): void {
    this.deleted = true;
  }
}

/** A subscriber of the panel on this kernel. */
async function subscriber(feeds: Feeds, id: string): Promise<Sink> {
  const sink = new Sink();
  (await feeds.join(id, sink)).start({}, () => ({ frame: '{}', type: 'CONNECTED' }));
  return sink;
}

/** Waits (at most 10 s), running `poke` meanwhile, until the sink was told. */
async function told(sink: Sink, poke: () => Promise<unknown> = () => Promise.resolve()): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!sink.deleted) {
    if (Date.now() > deadline) throw new Error('the subscriber was not told of the deletion');
    await poke();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the registry announces every deletion to local subscribers (embedded store)', () => {
  let directory: string;
  let store: EmbeddedStore;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'nexus-registry-'));
    store = new EmbeddedStore(directory, LIMITS, logger, 'kernel-a');
    await store.start();
  });
  afterEach(async () => {
    await store.close();
    await rm(directory, { recursive: true, force: true });
  });

  it('announces a created panel and a deleted one, and the deletion reaches its subscribers', async () => {
    const { registry, feeds, changes } = kernelOver(store);
    const { panel } = await registry.create(DEFINITION);
    const sink = await subscriber(feeds, panel.id);
    await registry.delete(panel.id);
    expect(sink.deleted).toBe(true);
    expect(feeds.size(panel.id)).toBe(0);
    expect(changes).toEqual(
      expect.arrayContaining([
        { kind: 'created', id: panel.id },
        { kind: 'deleted', id: panel.id },
      ]),
    );
  });

  it('tells subscribers of a panel whose delete stopped half-way once the store completes it', async () => {
    const { registry, feeds } = kernelOver(store);
    const { panel } = await registry.create(DEFINITION);
    const sink = await subscriber(feeds, panel.id);
    // The kernel deleting it died after marking it: the mark lapses and the store removes it.
    await expect(store.beginDelete(panel.id, 50)).resolves.toBe(true);
    await told(sink, () => registry.list());
    expect(feeds.size(panel.id)).toBe(0);
  });
});

describe('the registry announces every deletion to local subscribers (Redis)', () => {
  let redis: TestRedis;
  const stores: RedisStore[] = [];

  function redisStore(origin: string): RedisStore {
    const store = new RedisStore(
      new RedisLink({ url: redis.url, topology: 'standalone', commandTimeoutMs: 5000, name: origin }, logger),
      { prefix: 'registry:', origin, leaseMs: 60_000, limits: LIMITS },
      logger,
    );
    stores.push(store);
    return store;
  }

  beforeAll(async () => {
    redis = await startRedis();
  }, 60_000);
  afterAll(async () => {
    for (const store of stores) await store.close();
    await redis?.stop();
  });

  it("tells subscribers of another kernel's deletion", async () => {
    const a = redisStore('kernel-a');
    const b = redisStore('kernel-b');
    await a.start();
    await b.start();
    const here = kernelOver(a);
    const there = kernelOver(b);
    const { panel } = await there.registry.create(DEFINITION);
    const sink = await subscriber(here.feeds, panel.id);
    await there.registry.delete(panel.id);
    await told(sink);
    expect(here.changes).toContainEqual({ kind: 'deleted', id: panel.id });
  });

  it('tells subscribers of a panel whose deleting kernel died, when this kernel sweeps it', async () => {
    const a = redisStore('kernel-c');
    await a.start();
    const { registry, feeds } = kernelOver(a);
    const { panel } = await registry.create(DEFINITION);
    const sink = await subscriber(feeds, panel.id);
    // Marked by a kernel that died before removing it; this kernel's listing forgets it and
    // announces it in this kernel's own name.
    await expect(a.beginDelete(panel.id, 200)).resolves.toBe(true);
    await told(sink, () => registry.list());
    expect(feeds.size(panel.id)).toBe(0);
  });
});
