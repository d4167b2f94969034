// Wires the kernel together and runs its lifecycle: start (open the panel store, listen, warm
// the sandbox, become ready) and a graceful shutdown (fail /ready, refuse new work, let in-flight
// handlers finish within the grace period, close sockets with 1001 spread over a few seconds so
// their reconnects do not arrive as one wave, close the store, stop the sandbox).

import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { createTokenVerifier } from './auth.js';
import type { KernelConfig } from './config.js';
import { ExtensionHost, type Extension } from './extensions/host.js';
import { createHttpExtension } from './extensions/http.js';
import { createHttpApp } from './http/app.js';
import { createConnectionGuard } from './http/connection-guard.js';
import { createHostCheck } from './http/hosts.js';
import type { HttpContext } from './http/context.js';
import { createMetrics } from './metrics.js';
import { BytecodeCache } from './panels/bytecode-cache.js';
import { Executor } from './panels/executor.js';
import { Feeds } from './panels/feed.js';
import { LogShipper } from './panels/log-shipper.js';
import { PanelGates } from './panels/gate.js';
import { DELETE_MARK_MARGIN_MS, PanelRegistry } from './panels/registry.js';
import { SchemaValidator } from './schemas/validator.js';
import type { Sandbox } from './sandbox/types.js';
import { importEmbeddedPanels } from './store/import.js';
import { createStore, describeStore } from './store/index.js';
import { timeStore } from './store/timed.js';
import type { PanelStore } from './store/types.js';
import { CloseCode, createPanelSocketServer } from './ws/server.js';

export const KERNEL_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** Over how long idle sockets are closed on shutdown, so clients do not reconnect as one wave. */
const SOCKET_CLOSE_SPREAD_MS = 3000;
/** How long shutdown waits for the last log lines to reach their panels' rings. */
const LOG_FLUSH_MS = 2000;

export interface KernelOptions {
  readonly config: KernelConfig;
  readonly logger: Logger;
  readonly createSandbox: (config: KernelConfig) => Sandbox;
  /** The panel store; by default the one the configuration names. */
  readonly createStore?: (config: KernelConfig, logger: Logger) => PanelStore;
  /** Extensions besides the built-in `http` one. */
  readonly extensions?: readonly Extension[];
}

export interface Kernel {
  readonly httpPort: number;
  readonly wsPort: number;
  readonly status: { readonly ready: boolean; readonly draining: boolean };
  readonly registry: PanelRegistry;
  readonly store: PanelStore;
  /** Resolves once every in-flight handler has finished (or the grace period ended) and all is closed. */
  shutdown(reason: string): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Stops listening, closes connections as they become idle, and forces the rest after `timeoutMs`. */
function closeServer(server: Server, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    const force = setTimeout(() => server.closeAllConnections(), timeoutMs);
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}

export async function startKernel(options: KernelOptions): Promise<Kernel> {
  const { config, logger } = options;
  const startedAt = Date.now();
  const status = { ready: false, draining: false };

  logger.info(
    {
      version: KERNEL_VERSION,
      runtime: config.runtime,
      store: config.store.kind,
      storeAt: describeStore(config),
      instance: config.instanceName,
      auth: config.auth !== undefined,
    },
    'starting',
  );
  // The sources are read at scrape time, once everything below exists.
  const metrics = createMetrics({
    version: KERNEL_VERSION,
    storeKind: config.store.kind,
    executionQueueMax: config.executionQueueMax,
    panelCount: () => registry.knownCount,
    storeAvailable: () => store.available,
    executionsInFlight: () => executor.inFlight,
    executionsQueued: () => executor.queued,
    httpUnsentBytes: () => guard.unsentBytes(),
  });
  const store = timeStore((options.createStore ?? createStore)(config, logger), metrics);
  await store.start();
  await importEmbeddedPanels(config, store, logger);
  const sandbox = options.createSandbox(config);
  const extensions = new ExtensionHost(
    [createHttpExtension(config.httpExtension), ...(options.extensions ?? [])],
    (extension, method, outcome, seconds) => {
      metrics.extensionCalls.inc({ extension, method, outcome });
      metrics.extensionDuration.observe({ extension, method }, seconds);
    },
  );
  const bytecode = new BytecodeCache(sandbox, (hit) =>
    metrics.bytecodeCache.inc({ result: hit ? 'hit' : 'miss' }),
  );
  const schemas = new SchemaValidator(config.schemas, logger.child({ component: 'schemas' }));
  // Started now, so no request pays a worker's start-up.
  await schemas.start();
  const registry = new PanelRegistry(
    {
      maxStateBytes: config.maxStateBytes,
      defaultTimeoutMs: config.runtime.timeoutMs,
      cacheMaxBytes: config.panelCacheMaxBytes,
      mountTtlMs: config.executionDeadlineMs + 60_000,
      deleteTtlMs: 2 * config.executionDeadlineMs + DELETE_MARK_MARGIN_MS,
      extensions,
    },
    store,
    bytecode,
    schemas,
    logger,
  );
  const feeds = new Feeds(
    store,
    (id) => registry.latest(id),
    // The store's feed says the panel is gone: the registry announces it to everyone listening.
    (id) => registry.removed(id),
    logger.child({ component: 'feed' }),
  );
  feeds.follow(registry.changes);
  const logs = new LogShipper(
    store,
    {
      ...config.panelRetention,
      dropped: (reason, lines) => metrics.logLinesDropped.inc({ reason }, lines),
    },
    logger.child({ component: 'logs' }),
  );
  const executor = new Executor({
    sandbox,
    extensions,
    store,
    gates: new PanelGates({
      maxWaiters: config.panelMaxWaiters,
      instances: config.runtime.maxInstances,
      panelMaxInstances: config.panelMaxInstances,
      maxQueued: config.executionQueueMax,
    }),
    feeds,
    deadlineMs: config.executionDeadlineMs,
    maxStateBytes: config.maxStateBytes,
    observe: (kind, _tool, outcome, seconds) => {
      metrics.handlerExecutions.inc({ kind, status: outcome });
      metrics.handlerDuration.observe({ kind }, seconds);
    },
    logger,
    logs,
    requestRecords: config.requestRecords,
  });
  registry.useExecutor(executor);
  // /health reports the store's panel count without waiting for the store.
  const refreshCount = (): void => {
    registry.refreshCount().catch(() => {});
  };
  refreshCount();
  const counting = setInterval(refreshCount, 5000);
  counting.unref();

  const verifyToken = createTokenVerifier(config.auth);
  if (config.auth && Buffer.byteLength(config.auth.secret) < 32) {
    logger.warn('JWT_SECRET is shorter than 32 bytes; HS256 secrets that short can be brute-forced');
  }
  let wsPort = config.wsPort;
  const hostAllowed = createHostCheck(config.allowedHosts);
  const context: HttpContext = {
    config,
    logger,
    metrics,
    registry,
    executor,
    schemas,
    feeds,
    store,
    sandbox,
    status,
    verifyToken,
    version: KERNEL_VERSION,
    startedAt,
    hostAllowed,
    // The guard wraps the app built from this context, so it exists by the time a request asks.
    assertResponseRoom: () => guard.assertRoom(),
    wsPort: () => wsPort,
  };
  const app = createHttpApp(context);
  const guard = createConnectionGuard(config.http, app, {
    closed: (reason) => {
      metrics.httpConnectionsClosed.inc({ reason });
      logger.warn({ reason }, 'closed an HTTP connection whose client does not read its answers');
    },
    overloaded: () => metrics.httpOverloaded.inc(),
  });
  const server = createServer(
    {
      requestTimeout: config.http.requestTimeoutMs,
      headersTimeout: config.http.headersTimeoutMs,
      keepAliveTimeout: config.http.keepAliveTimeoutMs,
      // How often Node enforces the two timeouts above (default 30 s, too coarse against slow loris).
      connectionsCheckingInterval: Math.min(1000, config.http.headersTimeoutMs),
    },
    guard.listener,
  );
  guard.attach(server);
  const sockets = createPanelSocketServer(
    { config: config.ws, logger, metrics, registry, executor, schemas, feeds, status },
    verifyToken,
    { ...config.http, hostAllowed, corsOrigins: config.corsOrigins },
  );

  const httpPort = await listen(server, config.httpPort, config.host);
  wsPort = await listen(sockets.server, config.wsPort, config.host);
  logger.info({ httpPort, wsPort, host: config.host }, 'listening');

  const warmStarted = performance.now();
  const warm = await sandbox.compile('return 1');
  const probe = await sandbox.execute(
    warm,
    {
      panelId: 'kernel',
      handlerName: 'warm-up',
      stateJson: Buffer.from('{}'),
      argsJson: Buffer.from('{}'),
      capabilities: [],
    },
    config.runtime.timeoutMs,
  );
  if (probe.status !== 'success')
    throw new Error(
      `the sandbox failed its warm-up: ${probe.error?.code ?? probe.status} ${probe.error?.message ?? ''}`,
    );
  status.ready = true;
  logger.info({ warmUpMs: Math.round(performance.now() - warmStarted) }, 'ready');

  let stopping: Promise<void> | undefined;
  // Order matters: /ready fails and new work gets 503 while the listeners stay open (the load
  // balancer needs a moment to notice), in-flight handlers finish within the grace period, then
  // WebSocket clients get 1001, the listeners close, state is flushed and the sandbox stops.
  const shutdown = async (reason: string): Promise<void> => {
    status.draining = true;
    logger.info(
      { reason, inFlight: executor.inFlight, graceMs: config.shutdownGraceMs },
      'shutting down: draining',
    );
    const drained = await executor.idle(config.shutdownGraceMs);
    if (!drained)
      logger.warn({ inFlight: executor.inFlight }, 'grace period over with handlers still running');
    // The last executions' lines reach the ring before the store closes (bounded: a store that
    // does not answer holds shutdown no longer than its command timeout allows).
    await logs.idle(LOG_FLUSH_MS);
    clearInterval(counting);
    await sockets.closeAll(CloseCode.GOING_AWAY, 'server shutting down', SOCKET_CLOSE_SPREAD_MS);
    await Promise.all([closeServer(server, 2000), closeServer(sockets.server, 100)]);
    await store.close();
    await schemas.close();
    await sandbox.shutdown();
    logger.info('stopped');
  };

  return {
    httpPort,
    get wsPort() {
      return wsPort;
    },
    status,
    registry,
    store,
    shutdown: (reason) => (stopping ??= shutdown(reason)),
  };
}
