// The embedded store keeps its budgets whatever a caller hands it or its files hold: a PATCH
// frame larger than STORE_HISTORY_BYTES is not kept (resuming clients take the state instead), a
// restart loads at most each panel's budgets of history, and a panel that was being deleted when
// the process died is removed on the next start; request records outlive a restart with the
// state they were committed with.

import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { EmbeddedStore } from './embedded.js';
import { recordText } from './files.js';
import type { SegmentWrite, StoreLimits } from './types.js';
import { RETENTION } from '../testing/retention.js';

const logger = pino({ level: 'silent' });
const MiB = 1024 * 1024;
const LIMITS: StoreLimits = {
  maxPanels: 10,
  maxStateBytes: MiB,
  historyLength: 16,
  historyBytes: MiB,
  ...RETENTION,
};

function write(key: string, json: string, padding = 0): SegmentWrite {
  return {
    mutations: [{ key, json }],
    patchPrefix: `{"type":"PATCH","pad":"${'p'.repeat(padding)}","version":`,
    patchSuffix: '}',
    eventFrames: [],
  };
}

describe('the embedded store keeps its budgets', () => {
  let directory: string;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'nexus-embedded-'));
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  async function started(): Promise<EmbeddedStore> {
    const store = new EmbeddedStore(directory, LIMITS, logger, 'kernel');
    await store.start();
    return store;
  }

  async function newPanel(store: EmbeddedStore, id: string): Promise<void> {
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
    await store.admit(id);
  }

  async function commit(store: EmbeddedStore, id: string, segment: SegmentWrite) {
    const lease = await store.lease(id, undefined);
    if (lease === 'gone') throw new Error('no panel');
    return lease.commit(segment);
  }

  it('keeps no frame larger than STORE_HISTORY_BYTES, on disk either', async () => {
    const store = await started();
    await newPanel(store, 'p1');
    await commit(store, 'p1', write('n', '1'));
    await commit(store, 'p1', write('n', '2', 3 * MiB));
    await expect(store.history('p1', 1, 'e')).resolves.toMatchObject({
      kind: 'snapshot',
      state: { version: 2 },
    });
    await expect(store.history('p1', 2, 'e')).resolves.toMatchObject({ kind: 'history', frames: [] });
    await store.close();
    expect((await stat(join(directory, 'p1.json'))).size).toBeLessThan(MiB);
  });

  it('loads at most STORE_HISTORY_BYTES and STORE_HISTORY frames of history per panel', async () => {
    // A file written with other budgets (or by hand): 40 frames of 0.5 MiB.
    const frames = Array.from(
      { length: 40 },
      (_, i) => `{"type":"PATCH","pad":"${'p'.repeat(MiB / 2)}","version":${i + 1}}`,
    );
    frames.push(`{"type":"PATCH","version":41}`);
    await writeFile(
      join(directory, 'big.json'),
      recordText({
        id: 'big',
        createdAt: 'now',
        epoch: 'e',
        version: 41,
        definition: '{"title":"t","tools":{}}',
        revision: 1,
        revisions: [],
        state: new Map([['n', '41']]),
        history: frames,
      }),
    );
    const store = await started();
    // The newest frames that fit 1 MiB: the small one and one of 0.5 MiB.
    await expect(store.history('big', 39, 'e')).resolves.toMatchObject({
      kind: 'history',
      frames: [expect.stringContaining('"version":40'), expect.stringContaining('"version":41')],
    });
    await expect(store.history('big', 38, 'e')).resolves.toMatchObject({ kind: 'snapshot' });
    await store.close();
  });

  it('removes on start a panel that was being deleted when the process died', async () => {
    const first = await started();
    await newPanel(first, 'kept');
    await newPanel(first, 'dying');
    await expect(first.beginDelete('dying', 60_000)).resolves.toBe(true);
    // The process dies here: whatever was written is what the next start finds.
    await first.close();
    const second = await started();
    await expect(second.get('dying')).resolves.toBeUndefined();
    await expect(second.get('kept')).resolves.toMatchObject({ phase: 'ready' });
    await expect(second.count()).resolves.toBe(1);
    expect(await readdir(directory)).toEqual(['kept.json']);
    await second.close();
  });

  it('completes the deletion of a panel whose deleting mark lapsed', async () => {
    const store = await started();
    await newPanel(store, 'dying');
    await expect(store.beginDelete('dying', 1)).resolves.toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await expect(store.count()).resolves.toBe(0);
    await expect(store.get('dying')).resolves.toBeUndefined();
    await store.close();
    expect(await readdir(directory)).toEqual([]);
  });

  it('keeps request records in the panel file with the state they were committed with', async () => {
    const first = await started();
    await newPanel(first, 'recorded');
    await commit(first, 'recorded', {
      ...write('n', '1'),
      request: { key: 'k', record: '{"status":"success"}', expiresAt: Date.now() + 60_000 },
    });
    await first.close();
    const second = await started();
    const lease = await second.lease('recorded', undefined, Date.now() + 1000, 'k');
    if (lease === 'gone') throw new Error('no panel');
    expect({ version: lease.version, recorded: lease.recorded }).toEqual({
      version: 1,
      recorded: '{"status":"success"}',
    });
    await lease.release();
    await second.close();
  });
});
