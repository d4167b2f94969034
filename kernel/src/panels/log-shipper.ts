// Carries each execution's log lines to its panel's ring in the store (PanelLogs), off the
// answer's path and bounded, so a panel that floods its log cannot slow the others or grow the
// kernel:
// - per execution: the sandbox's bounds (logLimits), before anything reaches here;
// - per panel: at most one append in flight and one waiting; lines of later executions join the
//   waiting one, which keeps only the newest lines its ring can hold (PANEL_LOG_LINES,
//   PANEL_LOG_BYTES: the rest would be trimmed from the ring at once);
// - per kernel: LOG_QUEUE_MAX_BYTES of lines waiting and LOG_APPENDS_IN_FLIGHT appends in flight,
//   panels served in the order they first waited; lines that do not fit are dropped.
// Every dropped line is counted (nexus_kernel_log_lines_dropped_total{reason}).

import type { Logger } from 'pino';
import { type NewLogLine, type PanelLogs, newestFitting } from '../store/types.js';

/** Bytes of log lines that may wait for the store, all panels of this kernel together. */
export const LOG_QUEUE_MAX_BYTES = 8 * 1024 * 1024;
/** Appends this kernel has in flight at once (each is one store round trip). */
export const LOG_APPENDS_IN_FLIGHT = 4;

/**
 * Why lines never reached the ring: `panel` beyond what its ring holds (newer lines of the same
 * panel replaced them while they waited), `queue` the kernel's queue was full, `store` the store
 * refused or could not be reached.
 */
export type LogDropReason = 'panel' | 'queue' | 'store';

export interface LogShipperOptions {
  readonly logLines: number;
  readonly logBytes: number;
  readonly maxQueuedBytes?: number;
  readonly maxInFlight?: number;
  readonly dropped?: (reason: LogDropReason, lines: number) => void;
}

interface Batch {
  lines: NewLogLine[];
  bytes: number;
}

export class LogShipper {
  /** Waiting batches by panel, in the order the panels first waited. */
  private readonly waiting = new Map<string, Batch>();
  private readonly inFlight = new Set<string>();
  private queuedBytes = 0;
  private readonly maxQueuedBytes: number;
  private readonly maxInFlight: number;
  private readonly settled = new Set<() => void>();
  private lastWarning = -Infinity;

  constructor(
    private readonly store: PanelLogs,
    private readonly options: LogShipperOptions,
    private readonly logger: Logger,
  ) {
    this.maxQueuedBytes = options.maxQueuedBytes ?? LOG_QUEUE_MAX_BYTES;
    this.maxInFlight = options.maxInFlight ?? LOG_APPENDS_IN_FLIGHT;
  }

  /** Whether the ring is on (PANEL_LOG_LINES > 0). */
  get enabled(): boolean {
    return this.options.logLines > 0 && this.options.logBytes > 0;
  }

  /** Bytes of lines waiting for the store. */
  get queued(): number {
    return this.queuedBytes;
  }

  /** Queues one execution's lines for its panel's ring; returns at once. */
  ship(panelId: string, lines: readonly NewLogLine[]): void {
    if (lines.length === 0 || !this.enabled) return;
    const waiting = this.waiting.get(panelId);
    const joined = waiting === undefined ? lines : [...waiting.lines, ...lines];
    const kept = newestFitting(joined, this.options.logLines, this.options.logBytes);
    this.drop('panel', joined.length - kept.length);
    const bytes = bytesOf(kept);
    const before = waiting?.bytes ?? 0;
    if (this.queuedBytes - before + bytes > this.maxQueuedBytes) {
      this.drop('queue', lines.length);
      return;
    }
    this.queuedBytes += bytes - before;
    if (waiting === undefined) this.waiting.set(panelId, { lines: kept, bytes });
    else {
      waiting.lines = kept;
      waiting.bytes = bytes;
    }
    this.pump();
  }

  /** Resolves once nothing waits or is in flight, or when `timeoutMs` passes first. */
  async idle(timeoutMs: number): Promise<boolean> {
    if (this.waiting.size === 0 && this.inFlight.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    let done: (() => void) | undefined;
    const result = await Promise.race([
      new Promise<boolean>((resolve) => {
        done = () => {
          if (this.waiting.size === 0 && this.inFlight.size === 0) resolve(true);
        };
        this.settled.add(done);
      }),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (done !== undefined) this.settled.delete(done);
    return result;
  }

  private pump(): void {
    if (this.inFlight.size >= this.maxInFlight) return;
    for (const [panelId, batch] of this.waiting) {
      if (this.inFlight.size >= this.maxInFlight) return;
      // One append per panel at a time: its lines reach the ring in the order they were written.
      if (this.inFlight.has(panelId)) continue;
      this.waiting.delete(panelId);
      this.inFlight.add(panelId);
      void this.send(panelId, batch);
    }
  }

  private async send(panelId: string, batch: Batch): Promise<void> {
    try {
      // 'gone': the panel was deleted meanwhile; its lines have nowhere to go.
      await this.store.appendLogs(panelId, batch.lines);
    } catch (error) {
      this.drop('store', batch.lines.length);
      const now = Date.now();
      if (now - this.lastWarning >= 10_000) {
        this.lastWarning = now;
        this.logger.warn({ err: error, panelId }, 'log lines could not be added to the panel log ring');
      }
    } finally {
      this.queuedBytes -= batch.bytes;
      this.inFlight.delete(panelId);
      this.pump();
      for (const settled of [...this.settled]) settled();
    }
  }

  private drop(reason: LogDropReason, lines: number): void {
    if (lines > 0) this.options.dropped?.(reason, lines);
  }
}

function bytesOf(lines: readonly NewLogLine[]): number {
  let bytes = 0;
  for (const line of lines) bytes += Buffer.byteLength(line.message) + 128;
  return bytes;
}
