// The timing proxy times each operation its tables name under the member's name, counts the ones
// that fail, times a lease's commit and release, and passes everything else through untouched.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Counter, Histogram, Registry } from 'prom-client';
import { EmbeddedStore } from './embedded.js';
import { timeStore } from './timed.js';
import type { PanelStore } from './types.js';
import { RETENTION } from '../testing/retention.js';

const logger = pino({ level: 'silent' });

describe('the timed store', () => {
  let directory: string;
  let store: EmbeddedStore;
  let registry: Registry;
  let timers: {
    storeDuration: Histogram<'operation'>;
    storeErrors: Counter<'operation'>;
    storeCommitsUnconfirmed: Counter;
  };

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'nexus-timed-'));
    store = new EmbeddedStore(
      directory,
      { maxPanels: 1, maxStateBytes: 1 << 20, historyLength: 4, historyBytes: 1 << 20, ...RETENTION },
      logger,
      'kernel',
    );
    registry = new Registry();
    timers = {
      storeDuration: new Histogram({
        name: 'duration',
        help: 'h',
        labelNames: ['operation'],
        registers: [registry],
      }),
      storeErrors: new Counter({
        name: 'errors',
        help: 'h',
        labelNames: ['operation'],
        registers: [registry],
      }),
      storeCommitsUnconfirmed: new Counter({ name: 'unconfirmed', help: 'h', registers: [registry] }),
    };
  });
  afterEach(async () => {
    await store.close();
    await rm(directory, { recursive: true, force: true });
  });

  async function counts(): Promise<{ timed: Record<string, number>; failed: Record<string, number> }> {
    const timed: Record<string, number> = {};
    const failed: Record<string, number> = {};
    for (const value of (await timers.storeDuration.get()).values)
      if (value.metricName === 'duration_count') timed[String(value.labels.operation)] = value.value;
    for (const value of (await timers.storeErrors.get()).values)
      failed[String(value.labels.operation)] = value.value;
    return { timed, failed };
  }

  it('times each operation under its name, a lease’s too, and counts failures', async () => {
    const timed = timeStore<PanelStore>(store, timers);
    expect(timed.kind).toBe('embedded');
    expect(timed.origin).toBe('kernel');
    await timed.start();
    const panel = {
      id: 'p',
      epoch: 'e',
      definition: '{"title":"t","tools":{}}',
      title: 't',
      tools: [],
      state: new Map([['n', '0']]),
      createdAt: 'now',
    };
    await timed.create(panel, 60_000);
    await timed.admit('p');
    // MAX_PANELS is 1: refused, and counted as a failure.
    await expect(timed.create({ ...panel, id: 'q' }, 60_000)).rejects.toMatchObject({
      code: 'PANEL_LIMIT_REACHED',
    });
    const lease = await timed.lease('p', undefined, Date.now() + 1000);
    if (lease === 'gone') throw new Error('no panel');
    expect(lease.version).toBe(0);
    await lease.commit({
      mutations: [{ key: 'n', json: '1' }],
      patchPrefix: '{"v":',
      patchSuffix: '}',
      eventFrames: [],
    });
    const again = await timed.lease('p', undefined, Date.now() + 1000);
    if (again === 'gone') throw new Error('no panel');
    await again.release();
    await expect(timed.readState('p')).resolves.toMatchObject({ state: { version: 1 } });
    timed.onReconnect(() => {});
    expect(await counts()).toEqual({
      timed: { start: 1, create: 2, admit: 1, lease: 2, commit: 1, release: 1, readState: 1 },
      failed: { create: 1 },
    });
  });
});
