// Structured JSON logs. Every line names the service; requests add their id through child loggers.

import pino, { type Logger } from 'pino';
import type { LogLevel } from './config.js';
import type { LogLine } from './sandbox/types.js';

export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'workspace-kernel', pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: ['req.headers.authorization', 'headers.authorization'], censor: '[redacted]' },
    },
    destination,
  );
}

/** Requests a prober sends every few seconds: logged at debug, or they bury everything else. */
const PROBE_PATHS: ReadonlySet<string> = new Set(['/health', '/ready', '/metrics']);

/** The level of a request's access log line: probes at debug, the rest at info. */
export function requestLogLevel(path: string): 'debug' | 'info' {
  return PROBE_PATHS.has(path) ? 'debug' : 'info';
}

/**
 * A handler that failed still answers 200 (the failure is in the body), so the access line alone
 * hides it: warn with what a person needs to find it (the logger carries the request id).
 */
export function logFailedExecution(
  logger: Logger,
  panelId: string,
  tool: string,
  outcome: { readonly status: string; readonly error?: { readonly code: string; readonly message: string } },
): void {
  if (outcome.status !== 'error' || outcome.error === undefined) return;
  logger.warn({ panelId, tool, code: outcome.error.code, error: outcome.error.message }, 'execution failed');
}

/** Which execution a handler's log lines came from. */
export interface HandlerLogOrigin {
  readonly panelId: string;
  readonly tool: string;
  readonly kind: string;
  /** The definition revision the handler belongs to. */
  readonly revision: number;
}

/**
 * Records a handler's log lines in the kernel's log, each at the handler's own level and marked
 * `source: "handler"` (the message is the handler's text; the kernel's own lines never carry that
 * field), with the panel, the handler and its kind (the logger adds the request id when known).
 */
export function logHandlerLines(logger: Logger, origin: HandlerLogOrigin, lines: readonly LogLine[]): void {
  for (const line of lines) {
    logger[line.level](
      {
        source: 'handler',
        panelId: origin.panelId,
        tool: origin.tool,
        kind: origin.kind,
        revision: origin.revision,
        atMs: line.atMs,
        ...(line.location === undefined ? {} : { location: line.location }),
      },
      line.message,
    );
  }
}
