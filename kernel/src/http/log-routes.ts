// GET /panels/:id/logs: the panel's log ring (store/types.ts, PanelLogs), newest lines last.
// `since` (a seq: only the lines after it) and `limit` (at most this many, the newest).

import { KernelError } from '../errors.js';
import type { LogRead } from '../store/types.js';

/** The most lines one read may ask for (PANEL_LOG_LINES' own maximum). */
export const LOG_READ_MAX_LINES = 10_000;

function integerParam(value: unknown, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d{1,16}$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new KernelError('BAD_REQUEST', `${name} must be an integer from ${min} to ${max}`, [
      { path: `/${name}`, message: `an integer from ${min} to ${max}` },
    ]);
  }
  return Number(value);
}

/** The read's `since` and `limit` (default: every line the ring keeps, PANEL_LOG_LINES). */
export function logQuery(
  query: Record<string, unknown>,
  ringLines: number,
): { since: number; limit: number } {
  return {
    since: integerParam(query.since, 'since', 0, Number.MAX_SAFE_INTEGER) ?? 0,
    limit: integerParam(query.limit, 'limit', 1, LOG_READ_MAX_LINES) ?? Math.max(1, ringLines),
  };
}

export function logsView(panelId: string, read: LogRead | 'gone'): string {
  if (read === 'gone') throw new KernelError('PANEL_NOT_FOUND', `no panel with id "${panelId}"`);
  return JSON.stringify({ panelId, last: read.last, lines: read.lines });
}
