// A PanelStore that times every operation of the store it wraps and counts the ones that fail
// (nexus_kernel_store_operation_duration_seconds, nexus_kernel_store_errors_total). The operation
// label is the method's name: a fixed, small set.

import type { Counter, Histogram } from 'prom-client';
import type {
  CommitResult,
  FeedListener,
  HistoryRead,
  Lease,
  NewPanel,
  PanelStore,
  PanelSummary,
  SegmentWrite,
  StateRead,
  StateSnapshot,
  StoredPanel,
} from './store/types.js';

export interface StoreTimers {
  readonly storeDuration: Histogram<'operation'>;
  readonly storeErrors: Counter<'operation'>;
}

export function timeStore(store: PanelStore, timers: StoreTimers): PanelStore {
  return new TimedStore(store, timers);
}

class TimedStore implements PanelStore {
  constructor(
    private readonly store: PanelStore,
    private readonly timers: StoreTimers,
  ) {}

  private async timed<T>(operation: string, run: () => Promise<T>): Promise<T> {
    const stop = this.timers.storeDuration.startTimer({ operation });
    try {
      return await run();
    } catch (error) {
      this.timers.storeErrors.inc({ operation });
      throw error;
    } finally {
      stop();
    }
  }

  get kind() {
    return this.store.kind;
  }
  get available() {
    return this.store.available;
  }
  get origin() {
    return this.store.origin;
  }
  start(): Promise<void> {
    return this.timed('start', () => this.store.start());
  }
  close(): Promise<void> {
    return this.store.close();
  }
  create(panel: NewPanel, ttlMs: number): Promise<void> {
    return this.timed('create', () => this.store.create(panel, ttlMs));
  }
  admit(id: string): Promise<void> {
    return this.timed('admit', () => this.store.admit(id));
  }
  discard(id: string): Promise<void> {
    return this.timed('discard', () => this.store.discard(id));
  }
  get(id: string): Promise<StoredPanel | undefined> {
    return this.timed('get', () => this.store.get(id));
  }
  list(): Promise<PanelSummary[]> {
    return this.timed('list', () => this.store.list());
  }
  count(): Promise<number> {
    return this.timed('count', () => this.store.count());
  }
  readState(id: string, known?: StateSnapshot): Promise<StateRead | 'gone'> {
    return this.timed('readState', () => this.store.readState(id, known));
  }
  async lease(id: string, known: StateSnapshot | undefined, deadline: number): Promise<Lease | 'gone'> {
    const lease = await this.timed('lease', () => this.store.lease(id, known, deadline));
    return lease === 'gone' ? lease : this.timedLease(lease);
  }
  history(id: string, since: number, epoch: string): Promise<HistoryRead | 'gone'> {
    return this.timed('history', () => this.store.history(id, since, epoch));
  }
  beginDelete(id: string, ttlMs: number): Promise<boolean> {
    return this.timed('beginDelete', () => this.store.beginDelete(id, ttlMs));
  }
  finishDelete(id: string): Promise<void> {
    return this.timed('finishDelete', () => this.store.finishDelete(id));
  }
  publish(id: string, frame: string): Promise<void> {
    return this.timed('publish', () => this.store.publish(id, frame));
  }
  subscribe(id: string, listener: FeedListener): Promise<() => void> {
    return this.timed('subscribe', () => this.store.subscribe(id, listener));
  }
  onReconnect(listener: () => void): void {
    this.store.onReconnect(listener);
  }
  import(panel: NewPanel): Promise<boolean> {
    return this.timed('import', () => this.store.import(panel));
  }

  private timedLease(lease: Lease): Lease {
    return {
      get version() {
        return lease.version;
      },
      get epoch() {
        return lease.epoch;
      },
      get phase() {
        return lease.phase;
      },
      get state() {
        return lease.state;
      },
      commit: (write: SegmentWrite): Promise<CommitResult> => this.timed('commit', () => lease.commit(write)),
      release: (): Promise<void> => this.timed('release', () => lease.release()),
    };
  }
}
