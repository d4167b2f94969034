// The kernel's configuration: read from the environment once, validated with zod, defaulted and
// frozen. A bad value is reported with the variable, the value and what is accepted.

import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventFramingBytes, type OptionRange, runtimeOptions as sandbox } from '@nexus/bridge/limits';
import { z } from 'zod';
import { type DomainRule, parseAllowList } from './extensions/allowlist.js';
import type { SchemaValidatorOptions } from './schemas/validator.js';
import { parseByteSize } from './units.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

interface Variable<T> {
  readonly schema: z.ZodType<T>;
  readonly accepted: string;
  readonly fallback?: string;
}

function integer(min: number, max: number, fallback?: number): Variable<number> {
  return {
    schema: z.string().regex(/^\d+$/).transform(Number).pipe(z.number().int().min(min).max(max)),
    accepted: `an integer from ${min} to ${max}`,
    ...(fallback === undefined ? {} : { fallback: String(fallback) }),
  };
}

const MiB = 1024 * 1024;

function fromSandbox(range: OptionRange): Variable<number> {
  return integer(range.min, range.max, range.default);
}

function bytes(min: number, max: number, fallback?: string): Variable<number> {
  return {
    schema: z
      .string()
      .transform(
        (text, ctx) =>
          parseByteSize(text) ?? (ctx.addIssue({ code: 'custom', message: 'not a size' }), z.NEVER),
      )
      .pipe(z.number().min(min).max(max)),
    accepted: `a byte size from ${min} to ${max} bytes (e.g. 1048576, 512kb, 1mb, 128Mi)`,
    ...(fallback === undefined ? {} : { fallback }),
  };
}

function text(fallback?: string): Variable<string> {
  return { schema: z.string(), accepted: 'any text', ...(fallback === undefined ? {} : { fallback }) };
}

function list(fallback = ''): Variable<readonly string[]> {
  return {
    schema: z.string().transform((value) =>
      Object.freeze(
        value
          .split(',')
          .map((item) => item.trim())
          .filter((item) => item !== ''),
      ),
    ),
    accepted: 'a comma-separated list',
    fallback,
  };
}

const variables = {
  HOST: text('0.0.0.0'),
  HTTP_PORT: integer(0, 65535, 3000),
  WS_PORT: integer(0, 65535, 3001),
  LOG_LEVEL: {
    schema: z.enum(LOG_LEVELS),
    accepted: `one of ${LOG_LEVELS.join(', ')}`,
    fallback: 'info',
  } satisfies Variable<LogLevel>,
  NODE_ENV: text('production'),
  // The sandbox's own ranges (generated from the bridge's one table), so a value the bridge would
  // refuse is refused here, naming the variable.
  MEMORY_LIMIT_MB: integer(
    Math.ceil(sandbox.memoryLimitBytes.min / MiB),
    Math.floor(sandbox.memoryLimitBytes.max / MiB),
    sandbox.memoryLimitBytes.default / MiB,
  ),
  MAX_INSTANCES: fromSandbox(sandbox.maxInstances),
  MIN_INSTANCES: fromSandbox(sandbox.minInstances),
  TIMEOUT_MS: fromSandbox(sandbox.timeoutMs),
  MAX_HOST_CALLS: fromSandbox(sandbox.maxHostCalls),
  MAX_STATE_MUTATIONS: fromSandbox(sandbox.maxStateMutations),
  MAX_EVENTS: fromSandbox(sandbox.maxEvents),
  MAX_SUSPENSIONS: fromSandbox(sandbox.maxSuspensions),
  // The one budget of bytes a handler hands over in an execution (state writes, events, view
  // commands, $ext arguments, the return value), and the part of it events may take.
  MAX_VALUE_BYTES: bytes(sandbox.maxValueBytes.min, sandbox.maxValueBytes.max, '16Mi'),
  // Unset: 1 MiB, or half of a subscriber's send buffer when that is less (defaultMaxEventBytes).
  MAX_EVENT_BYTES: bytes(sandbox.maxEventBytes.min, sandbox.maxEventBytes.max),
  CACHE_DIR: text(join(tmpdir(), 'nexus-cache')),
  CACHE_MAX_BYTES: bytes(0, 2 ** 50, '128Mi'),
  PERSIST_DIR: text(),
  CORS_ORIGINS: list(),
  HTTP_ALLOWED_DOMAINS: {
    schema: z.string().transform((value, ctx) => {
      try {
        return parseAllowList(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
    accepted:
      'a comma-separated list of host, *.host, IPv4 address, CIDR block, [IPv6 address] or [IPv6 block] entries, each optionally with a port (host:port, 10.0.0.0/8:5432, [fd00::1]:8080)',
    fallback: '',
  } satisfies Variable<readonly DomainRule[]>,
  HTTP_EXTENSION_TIMEOUT_MS: integer(1, 600_000, 10_000),
  HTTP_EXTENSION_MAX_CONCURRENCY: integer(1, 10_000, 16),
  HTTP_EXTENSION_MAX_RESPONSE_BYTES: bytes(1, 64 * 1024 ** 2, '1Mi'),
  JWT_SECRET: text(),
  JWT_ISSUER: text(),
  JWT_AUDIENCE: text(),
  JWT_MAX_AGE_SECONDS: integer(60, 31_536_000, 86_400),
  JWT_CLOCK_SKEW_SECONDS: integer(0, 3600, 60),
  BODY_LIMIT: bytes(1024, 64 * 1024 ** 2, '1Mi'),
  MAX_PANELS: integer(1, 1_000_000),
  STORE_URL: {
    schema: z.string().transform((value, ctx) => {
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'not a URL' });
        return z.NEVER;
      }
      if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
        ctx.addIssue({ code: 'custom', message: `unsupported scheme ${url.protocol}` });
        return z.NEVER;
      }
      if (url.hostname === '') {
        ctx.addIssue({ code: 'custom', message: 'no host' });
        return z.NEVER;
      }
      return value;
    }),
    accepted: 'redis://[user][:password]@host[:port][/db] or rediss://… (unset: the embedded store)',
  } satisfies Variable<string>,
  STORE_TOPOLOGY: {
    schema: z.enum(['standalone', 'cluster']),
    accepted: 'standalone or cluster',
    fallback: 'standalone',
  } satisfies Variable<'standalone' | 'cluster'>,
  STORE_KEY_PREFIX: {
    schema: z.string().regex(/^[^{}\s]{0,64}$/),
    accepted: 'up to 64 characters without braces or spaces',
    fallback: 'nexus:',
  } satisfies Variable<string>,
  STORE_HISTORY: integer(0, 100_000, 256),
  STORE_HISTORY_BYTES: bytes(0, 256 * 1024 ** 2, '1Mi'),
  STORE_TIMEOUT_MS: integer(50, 60_000, 2000),
  STORE_TLS_CA_FILE: text(),
  POD_NAME: text(),
  PANEL_CACHE_MAX_BYTES: bytes(0, 16 * 1024 ** 3, '64Mi'),
  PANEL_MAX_WAITERS: integer(1, 100_000, 256),
  // Default: half of MAX_INSTANCES (at least 1), derived in loadConfig.
  PANEL_MAX_INSTANCES: integer(1, sandbox.maxInstances.max),
  EXECUTION_QUEUE_MAX: integer(1, 1_000_000, 1024),
  SCHEMA_TIMEOUT_MS: integer(1, 60_000, 200),
  SCHEMA_QUEUE_MAX: integer(1, 1_000_000, 1024),
  SCHEMA_PANEL_QUEUE_MAX: integer(1, 1_000_000, 64),
  SCHEMA_WAIT_MS: integer(100, 600_000, 10_000),
  SCHEMA_WORKERS: integer(1, 64, 2),
  SCHEMA_WORKER_HEAP_MB: integer(16, 4096, 64),
  EXECUTION_DEADLINE_MS: fromSandbox(sandbox.executionDeadlineMs),
  CACHE_SEED_DIR: text(),
  MAX_STATE_BYTES: bytes(1024, 256 * 1024 ** 2, '1Mi'),
  SHUTDOWN_GRACE_MS: integer(0, 3_600_000),
  HTTP_REQUEST_TIMEOUT_MS: integer(1000, 3_600_000, 30_000),
  HTTP_HEADERS_TIMEOUT_MS: integer(1000, 600_000, 10_000),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: integer(1, 600_000, 5000),
  WS_MAX_MESSAGE_BYTES: bytes(64, 64 * 1024 ** 2, '64Ki'),
  WS_MAX_BUFFERED_BYTES: bytes(1024, 1024 ** 3, '4Mi'),
  WS_HEARTBEAT_MS: integer(100, 3_600_000, 30_000),
  WS_MAX_MESSAGES_PER_SECOND: integer(1, 1_000_000, 200),
  WS_MAX_IN_FLIGHT: integer(1, 10_000, 32),
  WS_MAX_SUBSCRIBES_PER_SECOND: integer(1, 10_000, 2),
  WS_MAX_CONNECTIONS: integer(1, 1_000_000, 10_000),
  WS_MAX_CONNECTIONS_PER_ADDRESS: integer(0, 1_000_000, 0),
} as const;

type Variables = typeof variables;
export type EnvironmentVariable = keyof Variables;
type Parsed = { [K in EnvironmentVariable]: Variables[K] extends Variable<infer T> ? T | undefined : never };

export interface KernelConfig {
  readonly host: string;
  readonly httpPort: number;
  readonly wsPort: number;
  readonly logLevel: LogLevel;
  readonly nodeEnv: string;
  readonly runtime: {
    readonly memoryLimitMb: number;
    readonly maxInstances: number;
    readonly minInstances: number;
    readonly timeoutMs: number;
    readonly maxHostCalls: number;
    readonly maxStateMutations: number;
    readonly maxEvents: number;
    readonly maxSuspensions: number;
    readonly maxValueBytes: number;
    readonly maxEventBytes: number;
  };
  readonly cacheDir: string;
  readonly cacheSeedDir?: string;
  readonly cacheMaxBytes: number;
  readonly persistDir: string;
  readonly corsOrigins: readonly string[];
  readonly httpExtension: {
    readonly allowedDomains: readonly DomainRule[];
    readonly timeoutMs: number;
    readonly maxConcurrency: number;
    readonly maxResponseBytes: number;
  };
  readonly auth?: {
    readonly secret: string;
    readonly issuer?: string;
    readonly audience?: string;
    /** Oldest token accepted (by `iat`; without `iat`, the furthest `exp`). */
    readonly maxAgeSeconds: number;
    readonly clockSkewSeconds: number;
  };
  readonly bodyLimitBytes: number;
  readonly maxPanels: number;
  readonly maxStateBytes: number;
  /** The panel store: embedded (files in persistDir) unless a Redis URL is configured. */
  readonly store: StoreConfig;
  /** This kernel's name (POD_NAME, else the host name). */
  readonly instanceName: string;
  readonly panelCacheMaxBytes: number;
  /** Executions of this kernel that may wait for one panel at once. */
  readonly panelMaxWaiters: number;
  /** Sandbox instances the executions of one panel may hold at once (running and parked). */
  readonly panelMaxInstances: number;
  /** Executions of this kernel that may wait for a sandbox instance. */
  readonly executionQueueMax: number;
  /** Argument validation (schemas/validator.ts): timeoutMs is CPU time on a schema worker. */
  readonly schemas: SchemaValidatorOptions;
  /** Wall-clock bound of one execution, suspensions and waits for its panel included. */
  readonly executionDeadlineMs: number;
  readonly shutdownGraceMs: number;
  readonly http: {
    readonly requestTimeoutMs: number;
    readonly headersTimeoutMs: number;
    readonly keepAliveTimeoutMs: number;
  };
  readonly ws: {
    readonly maxMessageBytes: number;
    readonly maxBufferedBytes: number;
    readonly heartbeatMs: number;
    readonly maxMessagesPerSecond: number;
    readonly maxInFlight: number;
    readonly maxSubscribesPerSecond: number;
    readonly maxConnections: number;
    /** 0: no limit (port-forwards and ingresses make every client one address). */
    readonly maxConnectionsPerAddress: number;
  };
}

export type StoreConfig =
  | { readonly kind: 'embedded'; readonly historyLength: number; readonly historyBytes: number }
  | {
      readonly kind: 'redis';
      readonly url: string;
      readonly topology: 'standalone' | 'cluster';
      readonly keyPrefix: string;
      readonly historyLength: number;
      readonly historyBytes: number;
      readonly timeoutMs: number;
      readonly tlsCaFile?: string;
    };

export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/**
 * A panel's share of the sandbox instances unless PANEL_MAX_INSTANCES says otherwise: half, so
 * one panel's parked handlers never take the instances every other panel needs (gate.ts).
 */
export function defaultPanelMaxInstances(maxInstances: number): number {
  return Math.max(1, Math.floor(maxInstances / 2));
}

/** Validates the environment; throws ConfigError listing every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): KernelConfig {
  const problems: string[] = [];
  const parsed = {} as Record<string, unknown>;
  for (const [name, variable] of Object.entries(variables) as [EnvironmentVariable, Variable<unknown>][]) {
    const raw = env[name];
    const value = raw === undefined || raw.trim() === '' ? variable.fallback : raw.trim();
    if (value === undefined) continue;
    const result = variable.schema.safeParse(value);
    if (result.success) {
      parsed[name] = result.data;
    } else {
      const detail = result.error.issues.find((issue) => issue.code === 'custom')?.message;
      problems.push(
        `${name}=${JSON.stringify(raw)} is invalid${detail ? ` (${detail})` : ''}: expected ${variable.accepted}`,
      );
    }
  }
  const p = parsed as Parsed;
  if (p.MIN_INSTANCES !== undefined && p.MAX_INSTANCES !== undefined && p.MIN_INSTANCES > p.MAX_INSTANCES) {
    problems.push(
      `MIN_INSTANCES=${p.MIN_INSTANCES} is invalid: expected at most MAX_INSTANCES (${p.MAX_INSTANCES})`,
    );
  }
  if (
    p.PANEL_MAX_INSTANCES !== undefined &&
    p.MAX_INSTANCES !== undefined &&
    p.PANEL_MAX_INSTANCES > p.MAX_INSTANCES
  ) {
    problems.push(
      `PANEL_MAX_INSTANCES=${p.PANEL_MAX_INSTANCES} is invalid: expected at most MAX_INSTANCES (${p.MAX_INSTANCES})`,
    );
  }
  if (p.HTTP_PORT !== undefined && p.HTTP_PORT !== 0 && p.HTTP_PORT === p.WS_PORT) {
    problems.push(`WS_PORT=${p.WS_PORT} is invalid: expected a port different from HTTP_PORT`);
  }
  if (
    p.EXECUTION_DEADLINE_MS !== undefined &&
    p.TIMEOUT_MS !== undefined &&
    p.EXECUTION_DEADLINE_MS < p.TIMEOUT_MS
  ) {
    problems.push(
      `EXECUTION_DEADLINE_MS=${p.EXECUTION_DEADLINE_MS} is invalid: expected at least TIMEOUT_MS (${p.TIMEOUT_MS})`,
    );
  }
  const eventProblem = eventBudgetProblem(p.MAX_EVENT_BYTES, p.WS_MAX_BUFFERED_BYTES);
  if (eventProblem !== undefined) problems.push(eventProblem);
  const maxEventBytes =
    p.MAX_EVENT_BYTES ??
    (p.WS_MAX_BUFFERED_BYTES === undefined ? 0 : defaultMaxEventBytes(p.WS_MAX_BUFFERED_BYTES));
  if (p.STORE_TLS_CA_FILE !== undefined && !p.STORE_URL?.startsWith('rediss:')) {
    problems.push('STORE_TLS_CA_FILE is set but STORE_URL is not a rediss:// URL');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const store: StoreConfig =
    p.STORE_URL === undefined
      ? { kind: 'embedded', historyLength: p.STORE_HISTORY!, historyBytes: p.STORE_HISTORY_BYTES! }
      : {
          kind: 'redis',
          url: p.STORE_URL,
          topology: p.STORE_TOPOLOGY!,
          keyPrefix: p.STORE_KEY_PREFIX!,
          historyLength: p.STORE_HISTORY!,
          historyBytes: p.STORE_HISTORY_BYTES!,
          timeoutMs: p.STORE_TIMEOUT_MS!,
          ...(p.STORE_TLS_CA_FILE === undefined ? {} : { tlsCaFile: p.STORE_TLS_CA_FILE }),
        };

  const cacheDir = p.CACHE_DIR!;
  const config: KernelConfig = {
    host: p.HOST!,
    httpPort: p.HTTP_PORT!,
    wsPort: p.WS_PORT!,
    logLevel: p.LOG_LEVEL!,
    nodeEnv: p.NODE_ENV!,
    runtime: {
      memoryLimitMb: p.MEMORY_LIMIT_MB!,
      maxInstances: p.MAX_INSTANCES!,
      minInstances: p.MIN_INSTANCES!,
      timeoutMs: p.TIMEOUT_MS!,
      maxHostCalls: p.MAX_HOST_CALLS!,
      maxStateMutations: p.MAX_STATE_MUTATIONS!,
      maxEvents: p.MAX_EVENTS!,
      maxSuspensions: p.MAX_SUSPENSIONS!,
      maxValueBytes: p.MAX_VALUE_BYTES!,
      maxEventBytes,
    },
    cacheDir,
    ...(p.CACHE_SEED_DIR === undefined ? {} : { cacheSeedDir: p.CACHE_SEED_DIR }),
    cacheMaxBytes: p.CACHE_MAX_BYTES!,
    persistDir: p.PERSIST_DIR ?? join(cacheDir, 'panels'),
    corsOrigins: p.CORS_ORIGINS!,
    httpExtension: {
      allowedDomains: p.HTTP_ALLOWED_DOMAINS!,
      timeoutMs: p.HTTP_EXTENSION_TIMEOUT_MS!,
      maxConcurrency: p.HTTP_EXTENSION_MAX_CONCURRENCY!,
      maxResponseBytes: p.HTTP_EXTENSION_MAX_RESPONSE_BYTES!,
    },
    ...(p.JWT_SECRET === undefined
      ? {}
      : {
          auth: {
            secret: p.JWT_SECRET,
            ...(p.JWT_ISSUER === undefined ? {} : { issuer: p.JWT_ISSUER }),
            ...(p.JWT_AUDIENCE === undefined ? {} : { audience: p.JWT_AUDIENCE }),
            maxAgeSeconds: p.JWT_MAX_AGE_SECONDS!,
            clockSkewSeconds: p.JWT_CLOCK_SKEW_SECONDS!,
          },
        }),
    bodyLimitBytes: p.BODY_LIMIT!,
    maxPanels: p.MAX_PANELS ?? (store.kind === 'embedded' ? 1000 : 10_000),
    maxStateBytes: p.MAX_STATE_BYTES!,
    store,
    instanceName: p.POD_NAME ?? hostname(),
    panelCacheMaxBytes: p.PANEL_CACHE_MAX_BYTES!,
    panelMaxWaiters: p.PANEL_MAX_WAITERS!,
    panelMaxInstances: p.PANEL_MAX_INSTANCES ?? defaultPanelMaxInstances(p.MAX_INSTANCES!),
    executionQueueMax: p.EXECUTION_QUEUE_MAX!,
    schemas: {
      timeoutMs: p.SCHEMA_TIMEOUT_MS!,
      maxQueued: p.SCHEMA_QUEUE_MAX!,
      maxQueuedPerPanel: p.SCHEMA_PANEL_QUEUE_MAX!,
      waitMs: p.SCHEMA_WAIT_MS!,
      workers: p.SCHEMA_WORKERS!,
      heapMb: p.SCHEMA_WORKER_HEAP_MB!,
    },
    executionDeadlineMs: p.EXECUTION_DEADLINE_MS!,
    shutdownGraceMs: p.SHUTDOWN_GRACE_MS ?? p.EXECUTION_DEADLINE_MS! + 5000,
    http: {
      requestTimeoutMs: p.HTTP_REQUEST_TIMEOUT_MS!,
      headersTimeoutMs: p.HTTP_HEADERS_TIMEOUT_MS!,
      keepAliveTimeoutMs: p.HTTP_KEEP_ALIVE_TIMEOUT_MS!,
    },
    ws: {
      maxMessageBytes: p.WS_MAX_MESSAGE_BYTES!,
      maxBufferedBytes: p.WS_MAX_BUFFERED_BYTES!,
      heartbeatMs: p.WS_HEARTBEAT_MS!,
      maxMessagesPerSecond: p.WS_MAX_MESSAGES_PER_SECOND!,
      maxInFlight: p.WS_MAX_IN_FLIGHT!,
      maxSubscribesPerSecond: p.WS_MAX_SUBSCRIBES_PER_SECOND!,
      maxConnections: p.WS_MAX_CONNECTIONS!,
      maxConnectionsPerAddress: p.WS_MAX_CONNECTIONS_PER_ADDRESS!,
    },
  };
  return deepFreeze(config);
}

/** MAX_EVENT_BYTES when unset: 1 MiB, or half of a subscriber's send buffer when that is less. */
export function defaultMaxEventBytes(maxBufferedBytes: number): number {
  return Math.min(MiB, Math.floor(maxBufferedBytes / 2));
}

/**
 * Every subscriber of a panel receives all of one execution's EVENT frames, and the client that
 * triggered it their copy in the RESULT too. The sandbox counts each event's frame against
 * MAX_EVENT_BYTES (its name, its payload and `eventFramingBytes` for the rest of the frame), so
 * the budget must fit in half of a subscriber's send buffer, or one execution would disconnect
 * its panel's subscribers as slow consumers.
 */
function eventBudgetProblem(
  maxEventBytes: number | undefined,
  maxBufferedBytes: number | undefined,
): string | undefined {
  if (maxEventBytes === undefined || maxBufferedBytes === undefined) return undefined;
  if (maxEventBytes <= maxBufferedBytes / 2) return undefined;
  return `MAX_EVENT_BYTES=${maxEventBytes} is invalid: one execution's EVENT frames (up to that many bytes, each event counting its name, its payload and ${eventFramingBytes} bytes of framing) must fit in half of a subscriber's send buffer, WS_MAX_BUFFERED_BYTES=${maxBufferedBytes}: expected at most ${Math.floor(maxBufferedBytes / 2)}; lower MAX_EVENT_BYTES or raise WS_MAX_BUFFERED_BYTES`;
}

/** The variables the kernel reads, with what each accepts and its default (for docs and tests). */
export function describeVariables(): { name: EnvironmentVariable; accepted: string; fallback?: string }[] {
  return (Object.entries(variables) as [EnvironmentVariable, Variable<unknown>][]).map(
    ([name, variable]) => ({
      name,
      accepted: variable.accepted,
      ...(variable.fallback === undefined ? {} : { fallback: variable.fallback }),
    }),
  );
}
