// Read the configuration, build the parts, hand them to the manager, stop it on SIGTERM. No logic.
import type { KubeConfig } from '@kubernetes/client-node';
import { KERNEL_IDLE_WORKING_SET_MB, KERNEL_OVERHEAD_MB } from './api/defaults.js';
import { ConfigError, loadConfig, type OperatorConfig } from './config.js';
import { Reconciler } from './controller/reconciler.js';
import { describeError } from './errors.js';
import { createLogger, type Logger } from './log.js';
import { OperatorCaches } from './runtime/caches.js';
import { KubeClusterWriter, KubeEventRecorder, KubeLeaseStore, KubeSecretReader } from './runtime/kube.js';
import { loadKubeConfig } from './runtime/kubeconfig.js';
import { LeaderElector } from './runtime/leader.js';
import { Manager } from './runtime/manager.js';
import { OperatorMetrics } from './runtime/metrics.js';
import { DEFAULT_QUEUE_OPTIONS, WorkQueue } from './runtime/queue.js';

const DRAIN_TIMEOUT_MS = 10_000;

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
      storeImage: config.storeImage,
      leaderElect: config.leaderElect,
      identity: config.identity,
      server: kc.getCurrentCluster()?.server,
    },
    'starting',
  );

  const metrics: OperatorMetrics = new OperatorMetrics({ runtimes: () => caches.runtimes.list() });
  const queue = new WorkQueue({
    ...DEFAULT_QUEUE_OPTIONS,
    onDepthChange: (depth) => metrics.queueDepth.set(depth),
  });
  const caches = new OperatorCaches(kc, config.watchNamespace, (key) => queue.add(key), metrics, log);
  const writer = new KubeClusterWriter(kc, metrics);
  const reconciler = new Reconciler({
    cache: caches,
    writer,
    secrets: new KubeSecretReader(kc, metrics),
    events: new KubeEventRecorder(kc, config.identity, metrics, log),
    log,
    images: { kernel: config.kernelImage, store: config.storeImage },
    footprint: { overheadMB: KERNEL_OVERHEAD_MB, idleWorkingSetMB: KERNEL_IDLE_WORKING_SET_MB },
  });
  const leaseLog = log.child({ lease: `${config.leaderElectionNamespace}/${config.leaderElectionId}` });
  const manager = new Manager({
    caches,
    queue,
    reconcile: (key) => reconciler.reconcile(key),
    metrics,
    log,
    workers: config.maxConcurrentReconciles,
    resyncPeriodMs: config.resyncPeriodSeconds * 1000,
    metricsPort: config.metricsPort,
    drainTimeoutMs: DRAIN_TIMEOUT_MS,
    ...(config.leaderElect
      ? {
          elector: (callbacks) =>
            new LeaderElector(
              new KubeLeaseStore(kc, config.leaderElectionNamespace, config.leaderElectionId, metrics),
              config,
              callbacks,
              leaseLog,
            ),
        }
      : {}),
  });
  await manager.start();

  const shutdown = (signal: string) => {
    log.info({ signal }, 'shutting down');
    void manager.stop().then(() => {
      log.info('stopped');
      process.exit(0);
    });
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  installCrashGuards(log);
}

/** A stray rejection in a library callback must not take the operator down; log it loudly. */
function installCrashGuards(log: Logger): void {
  process.on('unhandledRejection', (reason) => {
    log.error({ err: describeError(reason) }, 'unhandled promise rejection');
  });
}
