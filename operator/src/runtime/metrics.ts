// Every metric the operator exports, named in one place (docs/observability.md lists them; a test
// checks the list against what /metrics serves).
//
// What describes NexusRuntimes (nexus_operator_runtimes and the nexus_operator_runtime_* gauges)
// comes from the informer cache and is exported by the leader only: every replica's cache holds
// the same runtimes, so a `sum` across replicas would otherwise count each one twice.
import { readFileSync } from 'node:fs';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { CHILD_KINDS } from '../api/children.js';
import { ConditionStatus, ConditionType } from '../api/conditions.js';
import { DEFAULTS } from '../api/defaults.js';
import { KIND } from '../api/group.js';
import type { NexusRuntime } from '../api/types.js';
import { statusCode } from '../errors.js';

export const ReconcileResult = { Success: 'success', Error: 'error', Requeue: 'requeue' } as const;
export type ReconcileResult = (typeof ReconcileResult)[keyof typeof ReconcileResult];

export const OPERATOR_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** The `code` of a request that succeeded: client-node hands back the body, not the status line. */
export const SUCCESS = '2xx';
/** The `code` of a request that got no HTTP response (connection refused, reset, timeout). */
export const NO_RESPONSE = 'none';

const MIB = 1024 * 1024;
const CONDITION_TYPES = Object.values(ConditionType);
const CONDITION_STATUSES = Object.values(ConditionStatus);

type RuntimeLabels = 'namespace' | 'runtime';

/** A gauge with one series per NexusRuntime, filled at scrape time from the leader's cache. */
function perRuntime<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  extraLabels: readonly L[],
  fill: (gauge: Gauge<RuntimeLabels | L>, runtimes: readonly NexusRuntime[]) => void,
  runtimes: () => readonly NexusRuntime[],
): Gauge<RuntimeLabels | L> {
  return new Gauge<RuntimeLabels | L>({
    name,
    help,
    labelNames: ['namespace', 'runtime', ...extraLabels],
    registers: [registry],
    collect() {
      this.reset();
      fill(this, runtimes());
    },
  });
}

const identity = (r: NexusRuntime) => ({
  namespace: r.metadata.namespace ?? '',
  runtime: r.metadata.name ?? '',
});

export interface MetricsSources {
  /** The NexusRuntimes in the informer cache. */
  runtimes(): readonly NexusRuntime[];
}

export class OperatorMetrics {
  readonly registry = new Registry();
  private leading = false;

  readonly reconcileTotal = new Counter({
    name: 'nexus_operator_reconcile_total',
    help: 'Reconcile passes by result (success, error, requeue)',
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
    help: 'Keys waiting in the work queue (on a standby: the keys it would work on once it leads)',
    registers: [this.registry],
  });
  readonly retries = new Counter({
    name: 'nexus_operator_workqueue_retries_total',
    help: 'Keys re-queued with backoff after a failed reconcile',
    registers: [this.registry],
  });
  readonly apiRequests = new Counter({
    name: 'nexus_operator_api_requests_total',
    help: 'Requests the reconciler, the event recorder and the leader elector sent to the API server, by verb, kind and HTTP status code',
    labelNames: ['verb', 'kind', 'code'] as const,
    registers: [this.registry],
  });
  readonly informerRestarts = new Counter({
    name: 'nexus_operator_informer_restarts_total',
    help: 'Informers restarted after their watch failed, by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly leader = new Gauge({
    name: 'nexus_operator_leader',
    help: '1 while this process holds the leader lease',
    registers: [this.registry],
  });

  constructor(sources: MetricsSources = { runtimes: () => [] }) {
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'nexus_operator_build_info',
      help: 'Always 1; the labels say which operator and Node.js version run',
      labelNames: ['version', 'nodejs'] as const,
      registers: [this.registry],
    }).set({ version: OPERATOR_VERSION, nodejs: process.version }, 1);
    // Every label value exists from the start, so that a rate over errors is 0, not "no data".
    for (const result of Object.values(ReconcileResult)) this.reconcileTotal.inc({ result }, 0);
    for (const kind of [KIND, ...CHILD_KINDS.map((k) => k.kind)]) this.informerRestarts.inc({ kind }, 0);
    this.leader.set(0);
    this.registerRuntimeGauges(() => (this.leading ? sources.runtimes() : []));
  }

  /** Leadership moves the leader gauge and decides whether the runtime gauges are exported. */
  setLeading(leading: boolean): void {
    this.leading = leading;
    this.leader.set(leading ? 1 : 0);
  }

  /** Runs one API request and counts it with the status code it ended with. */
  async countRequest<T>(verb: string, kind: string, request: () => Promise<T>): Promise<T> {
    try {
      const result = await request();
      this.apiRequests.inc({ verb, kind, code: SUCCESS });
      return result;
    } catch (err) {
      this.apiRequests.inc({ verb, kind, code: String(statusCode(err) ?? NO_RESPONSE) });
      throw err;
    }
  }

  private registerRuntimeGauges(runtimes: () => readonly NexusRuntime[]): void {
    const r = this.registry;
    new Gauge({
      name: 'nexus_operator_runtimes',
      help: 'NexusRuntimes by condition and status (leader only)',
      labelNames: ['condition', 'status'] as const,
      registers: [r],
      collect() {
        this.reset();
        const counts = new Map<string, { condition: string; status: string; count: number }>();
        for (const runtime of runtimes()) {
          for (const c of runtime.status?.conditions ?? []) {
            const id = `${c.type}/${c.status}`;
            const entry = counts.get(id) ?? { condition: c.type, status: c.status, count: 0 };
            entry.count += 1;
            counts.set(id, entry);
          }
        }
        for (const { condition, status, count } of counts.values()) this.set({ condition, status }, count);
      },
    });
    perRuntime(
      r,
      'nexus_operator_runtime_condition',
      'A NexusRuntime condition: 1 for the status it has, 0 for the other two (leader only)',
      ['type', 'status'] as const,
      (gauge, list) => {
        for (const runtime of list) {
          for (const type of CONDITION_TYPES) {
            const current = runtime.status?.conditions?.find((c) => c.type === type)?.status;
            for (const status of CONDITION_STATUSES) {
              gauge.set({ ...identity(runtime), type, status }, status === (current ?? 'Unknown') ? 1 : 0);
            }
          }
        }
      },
      runtimes,
    );
    const value = (name: string, help: string, pick: (runtime: NexusRuntime) => number | undefined): void => {
      perRuntime(
        r,
        name,
        `${help} (leader only)`,
        [] as const,
        (gauge, list) => {
          for (const runtime of list) {
            const v = pick(runtime);
            if (v !== undefined) gauge.set(identity(runtime), v);
          }
        },
        runtimes,
      );
    };
    value('nexus_operator_runtime_suspended', '1 while spec.suspend is true', (rt) =>
      (rt.spec?.suspend ?? DEFAULTS.suspend) ? 1 : 0,
    );
    value(
      'nexus_operator_runtime_desired_replicas',
      'Kernel pods the Deployment asks for (the HPA decides it under autoscaling)',
      (rt) => rt.status?.desiredReplicas,
    );
    value('nexus_operator_runtime_ready_replicas', 'Kernel pods Ready', (rt) => rt.status?.readyReplicas);
    value(
      'nexus_operator_runtime_max_replicas',
      'spec.autoscaling.maxReplicas, for runtimes that autoscale',
      (rt) =>
        (rt.spec?.autoscaling?.enabled ?? DEFAULTS.autoscaling.enabled)
          ? (rt.spec?.autoscaling?.maxReplicas ?? DEFAULTS.autoscaling.maxReplicas)
          : undefined,
    );
    const budget = (pick: (b: NonNullable<NexusRuntime['status']>['memoryBudget']) => number | undefined) => {
      return (rt: NexusRuntime) => {
        const mb = rt.status?.memoryBudget ? pick(rt.status.memoryBudget) : undefined;
        return mb === undefined ? undefined : mb * MIB;
      };
    };
    value(
      'nexus_operator_runtime_memory_limit_bytes',
      "A kernel container's memory limit",
      budget((b) => b?.limitMB),
    );
    value(
      'nexus_operator_runtime_memory_request_bytes',
      "A kernel container's memory request",
      budget((b) => b?.requestMB),
    );
    value(
      'nexus_operator_runtime_memory_budget_bytes',
      'What the memory budget reserves: instances × memoryLimitMB + overhead + caches',
      budget((b) => b?.requiredMB),
    );
  }
}
