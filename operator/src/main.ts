// Read the configuration, wire the parts, start them, stop them cleanly on SIGTERM. No logic here.
import type { Server } from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import { KERNEL_OVERHEAD_MB } from './api/defaults.js';
import { ConfigError, loadConfig, type OperatorConfig } from './config.js';
import { Reconciler } from './controller/reconciler.js';
import { createLogger, type Logger } from './log.js';
import { OperatorCaches } from './runtime/caches.js';
import { startHealthServer } from './runtime/health.js';
import { describeError } from './runtime/informers.js';
import { KubeClusterWriter, KubeEventRecorder, KubeLeaseStore } from './runtime/kube.js';
import { LeaderElector } from './runtime/leader.js';
import { OperatorMetrics } from './runtime/metrics.js';
import { loadKubeConfig } from './runtime/kubeconfig.js';
import { DEFAULT_QUEUE_OPTIONS, WorkQueue } from './runtime/queue.js';
import { runWorkers } from './runtime/workers.js';

const SHUTDOWN_GRACE_MS = 10_000;

export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let config: Readonly<OperatorConfig>;
  let kc: KubeConfig;
  try {
    config = loadConfig(env);
    kc = loadKubeConfig(config);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`nexus-operator: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  log.info(
    {
      watchNamespace: config.watchNamespace || '(all)',
      kernelImage: config.kernelImage,
      leaderElect: config.leaderElect,
      identity: config.identity,
      server: kc.getCurrentCluster()?.server,
    },
    'starting',
  );

  const metrics: OperatorMetrics = new OperatorMetrics(() => caches.conditionCounts());
  const queue = new WorkQueue({
    ...DEFAULT_QUEUE_OPTIONS,
    onDepthChange: (depth) => metrics.queueDepth.set(depth),
  });
  queue.pause(); // nothing is reconciled until this process leads
  const caches = new OperatorCaches(kc, config.watchNamespace, (key) => queue.add(key), metrics, log);
  const reconciler = new Reconciler({
    cache: caches,
    writer: new KubeClusterWriter(kc, metrics),
    events: new KubeEventRecorder(kc, config.identity, metrics, log),
    log,
    defaultImage: config.kernelImage,
    overheadMB: KERNEL_OVERHEAD_MB,
  });

  let stopping = false;
  const enqueueAll = () => caches.runtimeKeys().forEach((key) => queue.add(key));
  const leadership = {
    onStartedLeading: () => {
      metrics.leader.set(1);
      // Reconcile only from synced caches: a half-listed cache would make existing objects look absent.
      void caches
        .waitForSync(() => stopping)
        .then(() => {
          if (stopping) return;
          if (!elector || elector.isLeader) {
            enqueueAll();
            queue.resume();
          }
        });
    },
    onStoppedLeading: () => {
      metrics.leader.set(0);
      queue.pause();
    },
  };
  const elector = config.leaderElect
    ? new LeaderElector(
        new KubeLeaseStore(kc, config.leaderElectionNamespace, config.leaderElectionId, metrics),
        config,
        leadership,
        log.child({ lease: `${config.leaderElectionNamespace}/${config.leaderElectionId}` }),
      )
    : undefined;

  const server: Server = await startHealthServer(
    config.metricsPort,
    { live: () => true, ready: () => caches.synced },
    metrics.registry,
  );
  log.info({ port: config.metricsPort }, 'serving /healthz, /readyz and /metrics');

  void caches.start();
  const workers = runWorkers(
    queue,
    (key) => reconciler.reconcile(key),
    config.maxConcurrentReconciles,
    metrics,
    log,
  );
  const resync = setInterval(enqueueAll, config.resyncPeriodSeconds * 1000);
  if (elector) elector.start();
  else leadership.onStartedLeading();

  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    clearInterval(resync);
    queue.pause();
    await elector?.stop();
    queue.shutDown();
    const grace = new Promise((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS).unref());
    await Promise.race([workers, grace]);
    await caches.stop().catch(() => undefined);
    server.close();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  installCrashGuards(log);
}

/** A stray rejection in a library callback must not take the operator down; log it loudly. */
function installCrashGuards(log: Logger): void {
  process.on('unhandledRejection', (reason) => {
    log.error({ err: describeError(reason) }, 'unhandled promise rejection');
  });
}
