// Unauthenticated probes: /health (liveness, cheap), /ready (readiness) and /metrics.

import { Router } from 'express';
import type { HttpContext } from './context.js';

export function probeRoutes(context: HttpContext): Router {
  const router = Router();

  router.get('/health', (_request, response) => {
    let runtime: Record<string, number | boolean> = { initialised: context.status.ready };
    try {
      const stats = context.sandbox.stats();
      runtime = {
        initialised: context.status.ready,
        activeInstances: stats.activeInstances,
        availableInstances: stats.availableInstances,
        suspendedInstances: stats.suspendedInstances,
        maxInstances: stats.maxInstances,
        memoryInUseBytes: stats.memoryInUseBytes,
        totalExecutions: stats.totalExecutions,
      };
    } catch {
      // The runtime is still starting or already shut down; liveness does not depend on it.
    }
    const { config } = context;
    response.json({
      status: context.status.draining ? 'draining' : 'ok',
      version: context.version,
      // Seconds since the process started serving.
      uptime: Math.round((Date.now() - context.startedAt) / 1000),
      // Panels of the whole store, as last counted (never waits for the store).
      panels: context.registry.knownCount ?? null,
      inFlight: context.executor.inFlight,
      queued: context.executor.queued,
      subscribers: context.feeds.total,
      runtime,
      // What this kernel runs with: a `kubectl patch` of the runtime shows up here once rolled.
      config: {
        memoryLimitMB: config.runtime.memoryLimitMb,
        maxInstances: config.runtime.maxInstances,
        minInstances: config.runtime.minInstances,
        timeoutMs: config.runtime.timeoutMs,
        executionDeadlineMs: config.executionDeadlineMs,
        maxPanels: config.maxPanels,
        maxStateBytes: config.maxStateBytes,
        store: config.store.kind,
        ...(config.store.kind === 'redis' ? { storeTopology: config.store.topology } : {}),
      },
      store: { kind: context.store.kind, connected: context.store.available },
    });
  });

  router.get('/ready', (_request, response) => {
    // Not ready is a state to wait out, like every other 503 of the kernel.
    if (context.status.draining || !context.status.ready) response.setHeader('Retry-After', '1');
    if (context.status.draining) {
      response.status(503).json({ status: 'draining' });
    } else if (!context.status.ready) {
      response.status(503).json({ status: 'starting' });
    } else {
      response.json({ status: 'ready' });
    }
  });

  const render = async (): Promise<Buffer> => {
    const own = await context.metrics.registry.metrics();
    let sandbox = '';
    try {
      sandbox = context.sandbox.metricsText();
    } catch {
      // Metrics of a runtime that is not running are simply absent.
    }
    return Buffer.from(sandbox === '' ? own : `${own.trimEnd()}\n${sandbox.trimEnd()}\n`);
  };
  // One rendering serves every scrape that arrives while it runs and for METRICS_CACHE_MS after:
  // a flood of scrapes (they need no token) costs one rendering per interval, and all of them
  // send the same bytes.
  let rendered: { at: number; bytes: Promise<Buffer> } | undefined;
  const metricsText = (): Promise<Buffer> => {
    const now = performance.now();
    if (rendered === undefined || now - rendered.at >= context.config.metricsCacheMs) {
      const bytes = render();
      const entry = { at: Number.POSITIVE_INFINITY, bytes };
      rendered = entry;
      // The interval starts when the rendering is done; a failed one is not kept.
      bytes.then(
        () => (entry.at = performance.now()),
        () => {
          if (rendered === entry) rendered = undefined;
        },
      );
    }
    return rendered.bytes;
  };

  router.get('/metrics', async (_request, response) => {
    const bytes = await metricsText();
    response.setHeader('Content-Type', context.metrics.registry.contentType);
    response.send(bytes);
  });

  return router;
}
