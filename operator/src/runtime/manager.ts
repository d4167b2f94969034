// The running operator: caches, work queue, workers, the resync timer, leader election and the
// health server, started in order and stopped in the reverse one. main.ts only builds its parts.
import type { Server } from 'node:http';
import type { Logger } from '../log.js';
import { startHealthServer } from './health.js';
import type { LeaderElector } from './leader.js';
import type { OperatorMetrics } from './metrics.js';
import type { WorkQueue } from './queue.js';
import { runWorkers, type ReconcileFn } from './workers.js';

/** What the manager needs of the caches (OperatorCaches in production). */
export interface ManagedCaches {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly synced: boolean;
  waitForSync(abandon: () => boolean): Promise<void>;
  runtimeKeys(): string[];
}

export interface ManagerOptions {
  caches: ManagedCaches;
  queue: WorkQueue;
  reconcile: ReconcileFn;
  metrics: OperatorMetrics;
  log: Logger;
  /** Builds the elector given the manager's leadership callbacks; absent runs without election. */
  elector?: (callbacks: { onStartedLeading(): void; onStoppedLeading(): void }) => LeaderElector;
  workers: number;
  resyncPeriodMs: number;
  metricsPort: number;
  /** How long stop() waits for in-flight reconciles before it stops the caches anyway. */
  drainTimeoutMs: number;
}

export class Manager {
  private stopping = false;
  private resync: NodeJS.Timeout | undefined;
  private server: Server | undefined;
  private workers: Promise<void> | undefined;
  private readonly elector: LeaderElector | undefined;

  constructor(private readonly options: ManagerOptions) {
    this.options.queue.pause(); // nothing is reconciled until this process leads
    this.elector = options.elector?.({
      onStartedLeading: () => this.startedLeading(),
      onStoppedLeading: () => {
        options.metrics.setLeading(false);
        options.queue.pause();
      },
    });
  }

  async start(): Promise<void> {
    const { caches, queue, metrics, log } = this.options;
    this.server = await startHealthServer(
      this.options.metricsPort,
      { live: () => true, ready: () => caches.synced },
      metrics.registry,
    );
    log.info({ port: this.options.metricsPort }, 'serving /healthz, /readyz and /metrics');
    void caches.start();
    this.workers = runWorkers(queue, this.options.reconcile, this.options.workers, metrics, log);
    this.resync = setInterval(() => this.enqueueAll(), this.options.resyncPeriodMs);
    if (this.elector) this.elector.start();
    else this.startedLeading();
  }

  /** Stop leading (releasing the lease), drain the workers, then stop the caches and the server. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const { caches, queue, drainTimeoutMs } = this.options;
    clearInterval(this.resync);
    queue.pause();
    await this.elector?.stop();
    queue.shutDown();
    const drained = new Promise((resolve) => setTimeout(resolve, drainTimeoutMs).unref());
    await Promise.race([this.workers, drained]);
    await caches.stop().catch(() => undefined);
    await new Promise((resolve) => (this.server ? this.server.close(resolve) : resolve(undefined)));
  }

  private enqueueAll(): void {
    this.options.caches.runtimeKeys().forEach((key) => this.options.queue.add(key));
  }

  private startedLeading(): void {
    const { caches, queue, metrics } = this.options;
    metrics.setLeading(true);
    // Reconcile only from synced caches: a half-listed cache would make existing objects look absent.
    void caches
      .waitForSync(() => this.stopping)
      .then(() => {
        if (this.stopping || (this.elector && !this.elector.isLeader)) return;
        this.enqueueAll();
        queue.resume();
      });
  }
}
