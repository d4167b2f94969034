// Every metric the operator exports, named in one place.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const ReconcileResult = { Success: 'success', Error: 'error', Requeue: 'requeue' } as const;
export type ReconcileResult = (typeof ReconcileResult)[keyof typeof ReconcileResult];

export interface ConditionCount {
  condition: string;
  status: string;
  count: number;
}

export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconcileTotal = new Counter({
    name: 'nexus_operator_reconcile_total',
    help: 'Reconcile passes by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly reconcileDuration = new Histogram({
    name: 'nexus_operator_reconcile_duration_seconds',
    help: 'Duration of one reconcile pass',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'nexus_operator_workqueue_depth',
    help: 'Keys waiting in the work queue',
    registers: [this.registry],
  });
  readonly retries = new Counter({
    name: 'nexus_operator_workqueue_retries_total',
    help: 'Keys re-queued with backoff after a failed reconcile',
    registers: [this.registry],
  });
  readonly apiRequests = new Counter({
    name: 'nexus_operator_api_requests_total',
    help: 'Requests the reconciler and the leader elector sent to the API server, by verb and kind',
    labelNames: ['verb', 'kind'] as const,
    registers: [this.registry],
  });
  readonly informerRestarts = new Counter({
    name: 'nexus_operator_informer_restarts_total',
    help: 'Informers restarted after their watch failed',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly leader = new Gauge({
    name: 'nexus_operator_leader',
    help: '1 while this process holds the leader lease',
    registers: [this.registry],
  });
  readonly runtimes: Gauge<'condition' | 'status'>;

  constructor(countConditions: () => ConditionCount[] = () => []) {
    collectDefaultMetrics({ register: this.registry, prefix: 'nexus_operator_' });
    this.runtimes = new Gauge({
      name: 'nexus_operator_runtimes',
      help: 'NexusRuntimes by condition and status',
      labelNames: ['condition', 'status'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const { condition, status, count } of countConditions()) this.set({ condition, status }, count);
      },
    });
  }
}
