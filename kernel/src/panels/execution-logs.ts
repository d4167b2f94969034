// An execution's log lines as its panel's ring keeps them (store/types.ts, NewLogLine), and the
// line the kernel adds when it, not the handler, ended an execution (its deadline passed while
// the handler waited, the panel was deleted under it, another kernel took the panel).

import type { Logger } from 'pino';
import type { HandlerError, LogLine } from '../sandbox/types.js';
import type { NewLogLine } from '../store/types.js';

/** What the ring needs to know of the execution the lines came from. */
export interface LineOrigin {
  readonly tool: string;
  readonly kind: string;
  /** When the execution started, ms since the epoch (a line's `atMs` counts from it). */
  readonly startedAt: number;
  readonly requestId?: string;
  readonly revision?: number;
}

/** The line for an execution the kernel ended: in the result's logs and in the ring. */
export function kernelLine(error: Pick<HandlerError, 'code' | 'message'>, atMs: number): LogLine {
  return {
    level: 'error',
    message: `the kernel ended this execution: ${error.code}: ${error.message}`,
    atMs,
  };
}

/**
 * The ring's form of an execution's lines. Lines from the sandbox are the handler's (its markers
 * and its error included); the kernel's own line is marked `source: "kernel"`.
 */
export function ringLines(lines: readonly LogLine[], origin: LineOrigin, kernelMade?: LogLine): NewLogLine[] {
  const common = {
    tool: origin.tool,
    kind: origin.kind,
    ...(origin.requestId === undefined ? {} : { requestId: origin.requestId }),
    ...(origin.revision === undefined ? {} : { revision: origin.revision }),
  };
  return lines.map((line) => ({
    at: origin.startedAt + Math.round(line.atMs),
    level: line.level,
    message: line.message,
    ...common,
    source: line === kernelMade ? 'kernel' : 'handler',
    ...(line.location === undefined ? {} : { location: line.location }),
  }));
}

/** The request id a request's logger carries (HTTP: X-Request-Id; WebSocket: the TRIGGER's). */
export function requestIdOf(logger: Logger | undefined): string | undefined {
  const id = (logger?.bindings() as { requestId?: unknown } | undefined)?.requestId;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}
