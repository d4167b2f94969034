import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger };

/** JSON logs on stdout; child loggers carry the object key (`runtime: ns/name`) on every line. */
export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: { component: 'nexus-operator' } });
}
