// The way from executions to their panels' log rings: bounded per panel (a waiting batch keeps
// only what its ring holds), per kernel (LOG_QUEUE_MAX_BYTES; beyond it lines are dropped and
// counted) and by appends in flight, one per panel at a time, panels served in turn.

import pino from 'pino';
import type { NewLogLine, PanelLogs } from '../store/types.js';
import { type LogDropReason, LogShipper } from './log-shipper.js';

const logger = pino({ level: 'silent' });

const line = (message: string): NewLogLine => ({
  at: 0,
  level: 'info',
  message,
  tool: 't',
  kind: 'tool',
  source: 'handler',
});

/** A store whose appends wait until released, recording what they carried. */
class HeldStore implements PanelLogs {
  readonly appends: { id: string; messages: string[] }[] = [];
  private readonly waiting: (() => void)[] = [];
  fail = false;

  appendLogs(id: string, lines: readonly NewLogLine[]): Promise<'ok' | 'gone'> {
    this.appends.push({ id, messages: lines.map((each) => each.message) });
    return new Promise((resolve, reject) =>
      this.waiting.push(() => (this.fail ? reject(new Error('down')) : resolve('ok'))),
    );
  }

  readLogs(): Promise<'gone'> {
    return Promise.resolve('gone');
  }

  /** Lets every waiting append finish. */
  async release(): Promise<void> {
    const all = this.waiting.splice(0);
    for (const finish of all) finish();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function shipper(store: PanelLogs, options: Partial<ConstructorParameters<typeof LogShipper>[1]> = {}) {
  const dropped = new Map<LogDropReason, number>();
  const target = new LogShipper(
    store,
    {
      logLines: 3,
      logBytes: 1 << 20,
      maxInFlight: 2,
      dropped: (reason, lines) => dropped.set(reason, (dropped.get(reason) ?? 0) + lines),
      ...options,
    },
    logger,
  );
  return { target, dropped };
}

describe('LogShipper', () => {
  it('sends one append per panel at a time; later lines wait, joined, keeping what the ring holds', async () => {
    const store = new HeldStore();
    const { target, dropped } = shipper(store);
    target.ship('a', [line('a1')]);
    target.ship('a', [line('a2'), line('a3')]);
    target.ship('a', [line('a4'), line('a5')]);
    expect(store.appends).toEqual([{ id: 'a', messages: ['a1'] }]);
    await store.release();
    expect(store.appends[1]).toEqual({ id: 'a', messages: ['a3', 'a4', 'a5'] });
    expect(dropped.get('panel')).toBe(1);
    await store.release();
    await expect(target.idle(1000)).resolves.toBe(true);
    expect(target.queued).toBe(0);
  });

  it('serves other panels beside a busy one, up to its appends in flight', async () => {
    const store = new HeldStore();
    const { target } = shipper(store);
    target.ship('noisy', [line('n1')]);
    target.ship('noisy', [line('n2')]);
    target.ship('quiet', [line('q1')]);
    target.ship('third', [line('t1')]);
    // Two in flight: noisy and quiet; third waits its turn, as does noisy's second batch.
    expect(store.appends.map((append) => append.id)).toEqual(['noisy', 'quiet']);
    await store.release();
    expect(store.appends.map((append) => append.id)).toEqual(['noisy', 'quiet', 'noisy', 'third']);
    await store.release();
  });

  it('drops and counts lines beyond the kernel queue, and lines the store did not take', async () => {
    const store = new HeldStore();
    const { target, dropped } = shipper(store, { maxInFlight: 1, maxQueuedBytes: 1000 });
    target.ship('a', [line('x'.repeat(300))]);
    target.ship('b', [line('y'.repeat(300))]);
    target.ship('c', [line('z'.repeat(300))]);
    expect(dropped.get('queue')).toBe(1);
    expect(target.queued).toBeLessThanOrEqual(1000);
    store.fail = true;
    await store.release();
    await store.release();
    await expect(target.idle(1000)).resolves.toBe(true);
    expect(dropped.get('store')).toBe(2);
    expect(target.queued).toBe(0);
  });

  it('does nothing with the ring off (PANEL_LOG_LINES=0)', () => {
    const store = new HeldStore();
    const { target } = shipper(store, { logLines: 0 });
    target.ship('a', [line('a')]);
    expect(target.enabled).toBe(false);
    expect(store.appends).toEqual([]);
  });
});
