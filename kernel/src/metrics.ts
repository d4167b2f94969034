// The kernel's Prometheus metrics, all in one registry per kernel (so tests can run several), named
// nexus_kernel_*. The sandbox's own metrics (nexus_bridge_*: instances, parked handlers, its
// bytecode cache, errors by code) are appended at scrape time and not repeated here.
// docs/observability.md lists every metric; a test checks the list against what /metrics serves.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface KernelMetrics {
  readonly registry: Registry;
  readonly httpRequestDuration: Histogram<'method' | 'route' | 'status'>;
  readonly wsConnections: Gauge;
  readonly wsMessages: Counter<'direction' | 'type'>;
  readonly wsDisconnects: Counter<'reason'>;
  readonly handlerExecutions: Counter<'kind' | 'status'>;
  readonly handlerDuration: Histogram<'kind'>;
  readonly bytecodeCache: Counter<'result'>;
  readonly extensionCalls: Counter<'extension' | 'method' | 'outcome'>;
  readonly extensionDuration: Histogram<'extension' | 'method'>;
  readonly storeDuration: Histogram<'operation'>;
  readonly storeErrors: Counter<'operation'>;
  readonly storeCommitsUnconfirmed: Counter;
  readonly httpConnectionsClosed: Counter<'reason'>;
  readonly httpOverloaded: Counter;
  readonly logLinesDropped: Counter<'reason'>;
}

export interface MetricSources {
  readonly version: string;
  readonly storeKind: string;
  /** EXECUTION_QUEUE_MAX. */
  readonly executionQueueMax: number;
  /** Panels in the store as last counted; undefined before the first count. */
  panelCount(): number | undefined;
  storeAvailable(): boolean;
  executionsInFlight(): number;
  executionsQueued(): number;
  /** Bytes of HTTP answers accepted for sending and not yet sent, over every connection. */
  httpUnsentBytes(): number;
}

// Label values known up front: their series start at 0, so rates and alerts see 0, not nothing.
export const HANDLER_KINDS = ['tool', 'mount', 'unmount', 'upgrade'] as const;
export type HandlerKind = (typeof HANDLER_KINDS)[number];
export const HANDLER_STATUSES = ['success', 'error'] as const;
export const WS_DROP_REASONS = ['slow_consumer', 'heartbeat', 'too_large', 'token_expired'] as const;
export const HTTP_CLOSE_REASONS = ['write_timeout', 'pipeline_overflow'] as const;
export const LOG_DROP_REASONS = ['panel', 'queue', 'store'] as const;

export function createMetrics(sources: MetricSources): KernelMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const gauge = (name: string, help: string, read: () => number | undefined) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        const value = read();
        if (value !== undefined) this.set(value);
      },
    });

  new Gauge({
    name: 'nexus_kernel_build_info',
    help: 'Always 1; the labels say which kernel and Node.js version run',
    labelNames: ['version', 'nodejs'],
    registers,
  }).set({ version: sources.version, nodejs: process.version }, 1);
  new Gauge({
    name: 'nexus_kernel_store_up',
    help: '1 while the panel store answers, 0 during an outage (requests needing it get 503 STORE_UNAVAILABLE)',
    labelNames: ['kind'],
    registers,
    collect() {
      this.set({ kind: sources.storeKind }, sources.storeAvailable() ? 1 : 0);
    },
  });
  gauge(
    'nexus_kernel_store_panels',
    'Panels in the store as last counted: with a shared store every kernel of the runtime reports the same fleet-wide count (aggregate with max, not sum)',
    () => sources.panelCount(),
  );
  gauge(
    'nexus_kernel_executions_in_flight',
    'Executions started and not yet finished, parked ones included',
    () => sources.executionsInFlight(),
  );
  gauge(
    'nexus_kernel_execution_queue_depth',
    'New executions waiting to start: for their panel or a sandbox instance',
    () => sources.executionsQueued(),
  );
  gauge(
    'nexus_kernel_execution_queue_max',
    'EXECUTION_QUEUE_MAX: beyond this many waiting executions new ones get 503 OVERLOADED',
    () => sources.executionQueueMax,
  );

  gauge(
    'nexus_kernel_http_unsent_bytes',
    'Bytes of HTTP answers waiting for their clients to read them; over HTTP_MAX_UNSENT_BYTES_TOTAL new requests get 503 OVERLOADED',
    () => sources.httpUnsentBytes(),
  );

  const metrics: KernelMetrics = {
    registry,
    httpRequestDuration: new Histogram({
      name: 'nexus_kernel_http_request_duration_seconds',
      help: 'HTTP request duration by method, route pattern and status code',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    wsConnections: new Gauge({
      name: 'nexus_kernel_ws_connections',
      help: 'Open WebSocket connections',
      registers,
    }),
    wsMessages: new Counter({
      name: 'nexus_kernel_ws_messages_total',
      help: 'WebSocket messages by direction (in|out) and type',
      labelNames: ['direction', 'type'],
      registers,
    }),
    wsDisconnects: new Counter({
      name: 'nexus_kernel_ws_dropped_total',
      help: 'WebSocket clients dropped by the server, by reason (slow_consumer|heartbeat|too_large|token_expired)',
      labelNames: ['reason'],
      registers,
    }),
    handlerExecutions: new Counter({
      name: 'nexus_kernel_handler_executions_total',
      // No tool label: tool names are the panel authors', unbounded in number (logs name them).
      help: 'Handler executions by kind (tool|mount|unmount) and final status (success|error)',
      labelNames: ['kind', 'status'],
      registers,
    }),
    handlerDuration: new Histogram({
      name: 'nexus_kernel_handler_duration_seconds',
      help: 'Wall time of a handler execution including its suspensions',
      labelNames: ['kind'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 10],
      registers,
    }),
    bytecodeCache: new Counter({
      name: 'nexus_kernel_bytecode_cache_total',
      help: "Lookups in the kernel's cache of compiled handlers by result (hit|miss)",
      labelNames: ['result'],
      registers,
    }),
    extensionCalls: new Counter({
      name: 'nexus_kernel_extension_calls_total',
      help: 'Extension calls by extension, method and outcome (success or an error code)',
      labelNames: ['extension', 'method', 'outcome'],
      registers,
    }),
    extensionDuration: new Histogram({
      name: 'nexus_kernel_extension_duration_seconds',
      help: 'Extension call duration',
      labelNames: ['extension', 'method'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30],
      registers,
    }),
    storeDuration: new Histogram({
      name: 'nexus_kernel_store_operation_duration_seconds',
      help: 'Panel store operations by operation (lease includes waiting for a panel another kernel holds)',
      labelNames: ['operation'],
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    storeErrors: new Counter({
      name: 'nexus_kernel_store_errors_total',
      help: 'Panel store operations that failed, by operation',
      labelNames: ['operation'],
      registers,
    }),
    storeCommitsUnconfirmed: new Counter({
      name: 'nexus_kernel_store_commits_unconfirmed_total',
      help: 'Commits the store applied but did not confirm (504 COMMIT_UNCONFIRMED: fewer than STORE_ACK_REPLICAS replicas within STORE_ACK_TIMEOUT_MS, or no answer): they may be applied, or lost in a failover',
      registers,
    }),
    httpConnectionsClosed: new Counter({
      name: 'nexus_kernel_http_connections_closed_total',
      help: 'HTTP connections closed by the server, by reason (write_timeout: unsent answers made no progress for HTTP_WRITE_TIMEOUT_MS; pipeline_overflow: more than HTTP_MAX_PIPELINED requests waited)',
      labelNames: ['reason'],
      registers,
    }),
    httpOverloaded: new Counter({
      name: 'nexus_kernel_http_overloaded_total',
      help: 'HTTP requests refused with 503 OVERLOADED because more than HTTP_MAX_UNSENT_BYTES_TOTAL bytes of answers waited for their clients',
      registers,
    }),
    logLinesDropped: new Counter({
      name: 'nexus_kernel_log_lines_dropped_total',
      help: "Handler log lines that never reached their panel's log ring, by reason (panel: newer lines of the panel replaced them while they waited; queue: LOG_QUEUE_MAX_BYTES of lines already waited; store: the store refused or could not be reached)",
      labelNames: ['reason'],
      registers,
    }),
  };
  for (const reason of LOG_DROP_REASONS) metrics.logLinesDropped.inc({ reason }, 0);
  for (const reason of HTTP_CLOSE_REASONS) metrics.httpConnectionsClosed.inc({ reason }, 0);
  for (const kind of HANDLER_KINDS) {
    for (const status of HANDLER_STATUSES) metrics.handlerExecutions.inc({ kind, status }, 0);
  }
  for (const reason of WS_DROP_REASONS) metrics.wsDisconnects.inc({ reason }, 0);
  for (const result of ['hit', 'miss']) metrics.bytecodeCache.inc({ result }, 0);
  return metrics;
}
