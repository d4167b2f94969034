// Structured JSON logs on stdout in the kernel's format (kernel/src/logger.ts): `"level":"info"`
// labels and ISO times, so one query reads both. Child loggers carry the object key
// (`runtime: ns/name`) on every line.
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger };

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { component: 'nexus-operator', pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
