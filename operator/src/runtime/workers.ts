// Worker loops: take a key, reconcile it, requeue it with backoff when the pass fails.
import type { Logger } from '../log.js';
import { describeError } from '../errors.js';
import { ReconcileResult, type OperatorMetrics } from './metrics.js';
import type { WorkQueue } from './queue.js';

export type ReconcileFn = (key: string) => Promise<{ requeueAfterMs?: number }>;

export function runWorkers(
  queue: WorkQueue,
  reconcile: ReconcileFn,
  count: number,
  metrics: OperatorMetrics,
  log: Logger,
): Promise<void> {
  const worker = async (): Promise<void> => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      const stopTimer = metrics.reconcileDuration.startTimer();
      try {
        const outcome = await reconcile(key);
        queue.forget(key);
        if (outcome.requeueAfterMs !== undefined) {
          queue.addAfter(key, outcome.requeueAfterMs);
          metrics.reconcileTotal.inc({ result: ReconcileResult.Requeue });
        } else {
          metrics.reconcileTotal.inc({ result: ReconcileResult.Success });
        }
      } catch (err) {
        metrics.reconcileTotal.inc({ result: ReconcileResult.Error });
        metrics.retries.inc();
        const retryInMs = queue.addRateLimited(key);
        log.warn(
          { runtime: key, err: describeError(err), retryInMs, retries: queue.retries(key) },
          'reconcile failed',
        );
      } finally {
        stopTimer();
        queue.done(key);
      }
    }
  };
  return Promise.all(Array.from({ length: count }, () => worker())).then(() => undefined);
}
