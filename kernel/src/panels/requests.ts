// Idempotent triggers. A client names a trigger with a key (HTTP `Idempotency-Key`, a WebSocket
// TRIGGER's `idempotencyKey`); every commit of that execution records its outcome so far under
// the key in the same atomic step as its writes (store/types.ts, SegmentWrite.request), and a
// retry with the key finds the record under its panel lease before anything runs. So a retry
// after any failure — a lost answer, a commit the replicas did not confirm (504
// COMMIT_UNCONFIRMED), a kernel that died — is applied once: it is answered from the record when
// the first attempt's writes were applied, and runs when they were not (then there is no record).

import { createHash } from 'node:crypto';
import { KernelError } from '../errors.js';
import type { HandlerError } from '../sandbox/types.js';

/** RFC 8941 allows the key as a quoted string too; what is inside is the key. */
const KEY = /^[\x21-\x7e]{1,128}$/;

/** The key a client sent, or undefined when it sent none; 400 INVALID_IDEMPOTENCY_KEY when malformed. */
export function parseIdempotencyKey(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const key = value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
  if (!KEY.test(key) || key.includes('"')) {
    throw new KernelError(
      'INVALID_IDEMPOTENCY_KEY',
      `an idempotency key is 1-128 visible ASCII characters (no spaces or quotes inside); got ${JSON.stringify(value.slice(0, 40))}${value.length > 40 ? '…' : ''}`,
    );
  }
  return key;
}

/** A keyed request: its key, and what the key stands for (the tool and its arguments). */
export interface RequestIdentity {
  readonly key: string;
  readonly fingerprint: string;
}

export function requestIdentity(key: string, tool: string, argsText: string): RequestIdentity {
  const fingerprint = createHash('sha256').update(tool).update('\0').update(argsText).digest('base64url');
  return { key, fingerprint };
}

/** What a request's record says: running (some segments applied), or how it ended. */
export type RequestRecord =
  | {
      readonly fingerprint: string;
      readonly status: 'running';
      readonly version: number;
      readonly revision: number;
      /** Past this (ms since the epoch) the execution can no longer finish: it timed out. */
      readonly until: number;
    }
  | {
      readonly fingerprint: string;
      readonly status: 'success' | 'error';
      readonly version: number;
      readonly revision: number;
      /** The return value's JSON text, when it was within IDEMPOTENCY_RESULT_BYTES. */
      readonly returnValueJson?: string;
      /** True when the return value was larger than IDEMPOTENCY_RESULT_BYTES and not kept. */
      readonly returnValueOmitted?: boolean;
      readonly error?: HandlerError;
    };

export function recordText(record: RequestRecord): string {
  return JSON.stringify(record);
}

export function parseRecord(text: string): RequestRecord {
  const record = JSON.parse(text) as RequestRecord;
  if (typeof record.fingerprint !== 'string' || typeof record.version !== 'number') {
    throw new Error(`a request record is malformed: ${text.slice(0, 80)}`);
  }
  return record;
}

/**
 * A finished execution's record: its return value kept when its text as the record holds it (a
 * JSON string, so escaped) is at most `resultBytes`, which bounds what a record takes.
 */
export function finishedRecord(
  identity: RequestIdentity,
  fields: {
    status: 'success' | 'error';
    version: number;
    revision: number;
    returnValueJson?: string;
    error?: HandlerError;
  },
  resultBytes: number,
): RequestRecord {
  const { returnValueJson, ...rest } = fields;
  const kept =
    returnValueJson === undefined || Buffer.byteLength(JSON.stringify(returnValueJson)) <= resultBytes;
  return {
    fingerprint: identity.fingerprint,
    ...rest,
    ...(returnValueJson === undefined ? {} : kept ? { returnValueJson } : { returnValueOmitted: true }),
  };
}

/**
 * How a retry is answered from a record: the finished outcome, or a refusal. A key used for
 * another tool or other arguments is a client error (422); an execution still running is 409
 * with the seconds until it must have ended; one that can no longer end timed out.
 */
export function replayOf(
  record: RequestRecord,
  identity: RequestIdentity,
  now: number,
): Extract<RequestRecord, { status: 'success' | 'error' }> {
  if (record.fingerprint !== identity.fingerprint) {
    throw new KernelError(
      'IDEMPOTENCY_KEY_REUSED',
      `the idempotency key "${identity.key}" was used for another tool or other arguments of this panel; nothing ran (use a new key for a new request)`,
    );
  }
  if (record.status !== 'running') return record;
  if (record.until > now) {
    throw new KernelError(
      'REQUEST_IN_PROGRESS',
      `an execution with the idempotency key "${identity.key}" is still running (its segments up to version ${record.version} are applied); nothing new ran, retry for its outcome`,
      undefined,
      { retryAfter: Math.max(1, Math.ceil((record.until - now) / 1000)) },
    );
  }
  return {
    fingerprint: record.fingerprint,
    status: 'error',
    version: record.version,
    revision: record.revision,
    error: {
      code: 'TIMEOUT',
      message: `the execution with the idempotency key "${identity.key}" stopped before it finished (its kernel stopped, or it ran past its deadline); its segments up to version ${record.version} were applied`,
    },
  };
}
