// The embedded store's log rings (PanelLogs), in this process's memory: the embedded store serves
// one kernel, whose own log (pino, `source: "handler"`) keeps every line durably, so the ring is
// what a reader needs of the recent past and is not written to the panel's file (a file write per
// execution that logs would cost more than the ring is worth). A restart starts every ring empty
// (seq starts again from 1). Bounded like the shared store's: PANEL_LOG_LINES lines and
// PANEL_LOG_BYTES bytes of stored JSON text per panel, so at most MAX_PANELS × PANEL_LOG_BYTES.

import {
  type FeedMessage,
  type LogRead,
  type NewLogLine,
  type PanelPhase,
  type PanelLogLine,
  type PanelLogs,
  type StoreLimits,
  newestFitting,
} from './types.js';

interface Ring {
  /** Which life of the panel id this ring belongs to (a new panel with the same id starts empty). */
  readonly epoch: string;
  readonly lines: { readonly line: PanelLogLine; readonly bytes: number }[];
  bytes: number;
  last: number;
}

export interface MemoryLogsHost {
  /** The panel's epoch and phase while it exists, else undefined. */
  panelOf(id: string): { readonly epoch: string; readonly phase: PanelPhase } | undefined;
  /** Tells the panel's listeners (after the current call, in order). */
  announce(id: string, message: FeedMessage): void;
}

export class MemoryLogs implements PanelLogs {
  private readonly rings = new Map<string, Ring>();

  constructor(
    private readonly limits: StoreLimits,
    private readonly origin: string,
    private readonly host: MemoryLogsHost,
  ) {}

  appendLogs(id: string, lines: readonly NewLogLine[]): Promise<'ok' | 'gone'> {
    const ring = this.ring(id, 'append');
    if (ring === undefined) return Promise.resolve('gone');
    const kept = newestFitting(lines, this.limits.logLines, this.limits.logBytes);
    if (kept.length === 0) return Promise.resolve('ok');
    const appended: PanelLogLine[] = [];
    for (const line of kept) {
      ring.last += 1;
      // `seq` first: the same text, and bytes, as the shared store keeps.
      const stored: PanelLogLine = { seq: ring.last, ...line };
      const bytes = Buffer.byteLength(JSON.stringify(stored));
      ring.lines.push({ line: stored, bytes });
      ring.bytes += bytes;
      appended.push(stored);
    }
    let drop = 0;
    let bytes = ring.bytes;
    while (
      drop < ring.lines.length &&
      (ring.lines.length - drop > this.limits.logLines || bytes > this.limits.logBytes)
    ) {
      bytes -= ring.lines[drop]!.bytes;
      drop += 1;
    }
    ring.lines.splice(0, drop);
    ring.bytes = bytes;
    this.host.announce(id, { kind: 'log', origin: this.origin, lines: appended });
    return Promise.resolve('ok');
  }

  readLogs(id: string, since: number, limit: number): Promise<LogRead | 'gone'> {
    const ring = this.ring(id, 'read');
    if (ring === undefined) return Promise.resolve('gone');
    const after = ring.lines.filter(({ line }) => line.seq > since);
    return Promise.resolve({
      last: ring.last,
      lines: after.slice(Math.max(0, after.length - limit)).map(({ line }) => line),
    });
  }

  /** The panel is gone: its ring with it. */
  forget(id: string): void {
    this.rings.delete(id);
  }

  /** A panel being deleted keeps no new lines (as the shared store's APPEND_LOGS). */
  private ring(id: string, use: 'append' | 'read'): Ring | undefined {
    const panel = this.host.panelOf(id);
    if (panel === undefined) {
      this.rings.delete(id);
      return undefined;
    }
    if (use === 'append' && panel.phase === 'deleting') return undefined;
    const { epoch } = panel;
    let ring = this.rings.get(id);
    if (ring?.epoch !== epoch) {
      ring = { epoch, lines: [], bytes: 0, last: 0 };
      this.rings.set(id, ring);
    }
    return ring;
  }
}
