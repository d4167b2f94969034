// The kernel's Prometheus metrics, all in one registry per kernel (so tests can run several), named
// nexus_kernel_*. The sandbox's own metrics (nexus_bridge_*) are appended at scrape time.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SandboxStats } from './sandbox/types.js';

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
  readonly panels: Gauge;
}

export interface MetricSources {
  sandboxStats(): SandboxStats | undefined;
  panelCount(): number;
}

export function createMetrics(sources: MetricSources): KernelMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const stats = (pick: (stats: SandboxStats) => number) =>
    function (this: Gauge) {
      const current = sources.sandboxStats();
      if (current) this.set(pick(current));
    };
  new Gauge({
    name: 'nexus_kernel_pool_instances_active',
    help: 'Sandbox instances running a handler',
    registers: [registry],
    collect: stats((s) => s.activeInstances),
  });
  new Gauge({
    name: 'nexus_kernel_pool_instances_available',
    help: 'Warm sandbox instances ready for work',
    registers: [registry],
    collect: stats((s) => s.availableInstances),
  });
  new Gauge({
    name: 'nexus_kernel_pool_instances_suspended',
    help: 'Sandbox instances parked on an extension call',
    registers: [registry],
    collect: stats((s) => s.suspendedInstances),
  });
  new Gauge({
    name: 'nexus_kernel_pool_instances_max',
    help: 'MAX_INSTANCES',
    registers: [registry],
    collect: stats((s) => s.maxInstances),
  });
  new Gauge({
    name: 'nexus_kernel_pool_memory_bytes',
    help: 'Linear memory in use by sandbox instances',
    registers: [registry],
    collect: stats((s) => s.memoryInUseBytes),
  });
  new Gauge({
    name: 'nexus_kernel_sandbox_cache_hits',
    help: 'Bytecode cache hits inside the sandbox since start',
    registers: [registry],
    collect: stats((s) => s.cacheHits),
  });
  new Gauge({
    name: 'nexus_kernel_sandbox_cache_misses',
    help: 'Bytecode cache misses inside the sandbox since start',
    registers: [registry],
    collect: stats((s) => s.cacheMisses),
  });
  return {
    registry,
    httpRequestDuration: new Histogram({
      name: 'nexus_kernel_http_request_duration_seconds',
      help: 'HTTP request duration by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    wsConnections: new Gauge({
      name: 'nexus_kernel_ws_connections',
      help: 'Open WebSocket connections',
      registers: [registry],
    }),
    wsMessages: new Counter({
      name: 'nexus_kernel_ws_messages_total',
      help: 'WebSocket messages by direction (in|out) and type',
      labelNames: ['direction', 'type'],
      registers: [registry],
    }),
    wsDisconnects: new Counter({
      name: 'nexus_kernel_ws_dropped_total',
      help: 'WebSocket clients dropped by the server, by reason (slow_consumer|heartbeat|too_large)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    handlerExecutions: new Counter({
      name: 'nexus_kernel_handler_executions_total',
      // No tool label: tool names are the panel authors', unbounded in number (logs name them).
      help: 'Handler executions by kind (tool|mount|unmount) and final status',
      labelNames: ['kind', 'status'],
      registers: [registry],
    }),
    handlerDuration: new Histogram({
      name: 'nexus_kernel_handler_duration_seconds',
      help: 'Wall time of a handler execution including its suspensions',
      labelNames: ['kind'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 10],
      registers: [registry],
    }),
    bytecodeCache: new Counter({
      name: 'nexus_kernel_bytecode_cache_total',
      help: 'Kernel-side handler bytecode lookups by result (hit|miss)',
      labelNames: ['result'],
      registers: [registry],
    }),
    extensionCalls: new Counter({
      name: 'nexus_kernel_extension_calls_total',
      help: 'Extension calls by extension, method and outcome (success or an error code)',
      labelNames: ['extension', 'method', 'outcome'],
      registers: [registry],
    }),
    extensionDuration: new Histogram({
      name: 'nexus_kernel_extension_duration_seconds',
      help: 'Extension call duration',
      labelNames: ['extension', 'method'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30],
      registers: [registry],
    }),
    panels: new Gauge({
      name: 'nexus_kernel_panels',
      help: 'Panels held by this kernel',
      registers: [registry],
      collect() {
        this.set(sources.panelCount());
      },
    }),
  };
}
