// A rate-limited work queue in the manner of client-go's: a key is queued at most once, a key that
// is being processed is never handed to a second worker (a change meanwhile marks it dirty and it
// is re-queued when the first worker is done), and failures back off exponentially per key.

export interface QueueOptions {
  baseDelayMs: number;
  maxDelayMs: number;
  onDepthChange?: (depth: number) => void;
}

export const DEFAULT_QUEUE_OPTIONS: QueueOptions = { baseDelayMs: 250, maxDelayMs: 120_000 };

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private waiters: ((key: string | undefined) => void)[] = [];
  private paused = false;
  private shuttingDown = false;

  constructor(private readonly options: QueueOptions = DEFAULT_QUEUE_OPTIONS) {}

  /** Queue a key now. Duplicates collapse; a key in progress is queued again when it is done. */
  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    this.queue.push(key);
    this.changed();
    this.handOut();
  }

  /** Queue a key after a delay; an earlier pending delay for the same key wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) return this.add(key);
    if (this.timers.has(key)) return;
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.timers.set(key, timer);
  }

  /** Queue a key after its next backoff delay: base × 2^(failures-1), capped. Returns the delay. */
  addRateLimited(key: string): number {
    const failures = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, failures);
    const delay = backoffDelay(failures, this.options.baseDelayMs, this.options.maxDelayMs);
    this.addAfter(key, delay);
    return delay;
  }

  /** Forget a key's failures: its next failure starts again at the base delay. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** The next key to work on; waits while the queue is empty or paused. undefined after shutDown. */
  get(): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    if (!this.paused && this.queue.length > 0) return Promise.resolve(this.take());
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Mark a key's processing finished; if it changed meanwhile it goes back in the queue. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key) && !this.shuttingDown) {
      this.queue.push(key);
      this.changed();
      this.handOut();
    }
  }

  /** Stop handing out keys (keys keep accumulating) until resume(). */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.handOut();
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
  }

  get length(): number {
    return this.queue.length;
  }

  private take(): string {
    const key = this.queue.shift()!;
    this.dirty.delete(key);
    this.processing.add(key);
    this.changed();
    return key;
  }

  private handOut(): void {
    while (!this.paused && this.queue.length > 0 && this.waiters.length > 0) {
      this.waiters.shift()!(this.take());
    }
  }

  private changed(): void {
    this.options.onDepthChange?.(this.queue.length);
  }
}

export function backoffDelay(failures: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, Math.min(failures - 1, 30)));
}
