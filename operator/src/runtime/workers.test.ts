import { pino } from 'pino';
import { OperatorMetrics } from './metrics.js';
import { WorkQueue } from './queue.js';
import { runWorkers } from './workers.js';

const log = pino({ level: 'silent' });
const sum = async (metrics: OperatorMetrics, name: string, result?: string) => {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  return (metric?.values ?? [])
    .filter((v) => result === undefined || v.labels.result === result)
    .reduce((total, v) => total + v.value, 0);
};

describe('runWorkers', () => {
  it('retries a failing key with backoff until it succeeds, then forgets its failures', async () => {
    const queue = new WorkQueue({ baseDelayMs: 5, maxDelayMs: 20 });
    const metrics = new OperatorMetrics();
    const attempts: string[] = [];
    const done = runWorkers(
      queue,
      (key) => {
        attempts.push(key);
        if (attempts.length < 3) return Promise.reject(new Error('conflict'));
        queue.shutDown();
        return Promise.resolve({});
      },
      2,
      metrics,
      log,
    );
    queue.add('ns/a');
    await done;
    expect(attempts).toEqual(['ns/a', 'ns/a', 'ns/a']);
    expect(queue.retries('ns/a')).toBe(0);
    expect(await sum(metrics, 'nexus_operator_reconcile_total', 'error')).toBe(2);
    expect(await sum(metrics, 'nexus_operator_reconcile_total', 'success')).toBe(1);
    expect(await sum(metrics, 'nexus_operator_workqueue_retries_total')).toBe(2);
  });

  it('re-queues a key that asks to be looked at again later', async () => {
    const queue = new WorkQueue({ baseDelayMs: 5, maxDelayMs: 20 });
    const metrics = new OperatorMetrics();
    let passes = 0;
    const done = runWorkers(
      queue,
      () => {
        passes += 1;
        if (passes === 2) queue.shutDown();
        return Promise.resolve(passes === 1 ? { requeueAfterMs: 10 } : {});
      },
      1,
      metrics,
      log,
    );
    queue.add('ns/a');
    await done;
    expect(passes).toBe(2);
    expect(await sum(metrics, 'nexus_operator_reconcile_total', 'requeue')).toBe(1);
  });

  it('never runs one key on two workers at once', async () => {
    const queue = new WorkQueue({ baseDelayMs: 5, maxDelayMs: 20 });
    let running = 0;
    let overlap = false;
    let passes = 0;
    const done = runWorkers(
      queue,
      async () => {
        running += 1;
        if (running > 1) overlap = true;
        if (passes === 0) queue.add('ns/a'); // a change arrives while the key is being worked on
        await new Promise((r) => setTimeout(r, 10));
        running -= 1;
        passes += 1;
        if (passes === 2) queue.shutDown();
        return {};
      },
      4,
      new OperatorMetrics(),
      log,
    );
    queue.add('ns/a');
    await done;
    expect(passes).toBe(2);
    expect(overlap).toBe(false);
  });
});
