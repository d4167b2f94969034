import { pino } from 'pino';
import { Manager, type ManagedCaches } from './manager.js';
import { OperatorMetrics } from './metrics.js';
import { WorkQueue } from './queue.js';
import { freePortForTests } from '../testing/ports.js';

class FakeCaches implements ManagedCaches {
  synced = false;
  started = 0;
  stopped = 0;
  keys = ['ns/a', 'ns/b'];
  start() {
    this.started += 1;
    return Promise.resolve();
  }
  stop() {
    this.stopped += 1;
    return Promise.resolve();
  }
  async waitForSync(abandon: () => boolean) {
    while (!this.synced && !abandon()) await new Promise((r) => setTimeout(r, 5));
  }
  runtimeKeys() {
    return this.keys;
  }
}

async function manager(resyncPeriodMs = 60_000) {
  const caches = new FakeCaches();
  const queue = new WorkQueue({ baseDelayMs: 1, maxDelayMs: 10 });
  const reconciled: string[] = [];
  const port = await freePortForTests();
  const m = new Manager({
    caches,
    queue,
    reconcile: (key) => {
      reconciled.push(key);
      return Promise.resolve({});
    },
    metrics: new OperatorMetrics(),
    log: pino({ level: 'silent' }),
    workers: 2,
    resyncPeriodMs,
    metricsPort: port,
    drainTimeoutMs: 1000,
  });
  return { caches, m, reconciled, port };
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
};

describe('Manager', () => {
  it('reconciles nothing before the caches have synced, then every runtime', async () => {
    const { caches, m, reconciled } = await manager();
    await m.start();
    expect(caches.started).toBe(1);
    await new Promise((r) => setTimeout(r, 30));
    expect(reconciled).toEqual([]);
    caches.synced = true;
    await until(() => reconciled.length === 2);
    expect(reconciled.sort()).toEqual(['ns/a', 'ns/b']);
    await m.stop();
    expect(caches.stopped).toBe(1);
  });

  it('queues every runtime again each resync period, and stops the timer on stop', async () => {
    const { caches, m, reconciled } = await manager(20);
    caches.synced = true;
    await m.start();
    await until(() => reconciled.length >= 6);
    await m.stop();
    const after = reconciled.length;
    await new Promise((r) => setTimeout(r, 60));
    expect(reconciled.length).toBe(after);
  });

  it('serves the health endpoints until stopped', async () => {
    const { caches, m, port } = await manager();
    await m.start();
    const get = (path: string) => fetch(`http://127.0.0.1:${port}${path}`).then((r) => r.status);
    expect(await get('/healthz')).toBe(200);
    expect(await get('/readyz')).toBe(503);
    caches.synced = true;
    expect(await get('/readyz')).toBe(200);
    await m.stop();
    await expect(get('/healthz')).rejects.toThrow();
  });
});
