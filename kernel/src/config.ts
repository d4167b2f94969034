// The kernel's configuration: read from the environment once, validated with zod, defaulted and
// frozen. A bad value is reported with the variable, the value and what is accepted. The variables
// (names, bounds, defaults) are the table in config-table.ts, which the operator reads too; this
// module turns each kind of variable into a validator and checks the rules between variables.

import { hostname } from 'node:os';
import { join } from 'node:path';
import { eventFramingBytes } from '@nexus/bridge/limits';
import { z } from 'zod';
import {
  type EnvironmentVariable,
  type LogLevel,
  type StoreTopology,
  type Variable,
  type Variables,
  DEFAULT_MAX_PANELS,
  SHUTDOWN_DRAIN_MS,
  defaultAckReplicas,
  defaultPanelMaxInstances,
  fallbackOf,
  parseHostPort,
  parseStoreUrl,
  variables,
} from './config-table.js';
import { type DomainRule, parseAllowList } from './extensions/allowlist.js';
import { parseHostList } from './http/hosts.js';
import type { SchemaValidatorOptions } from './schemas/validator.js';
import { parseByteSize } from './units.js';

export {
  type EnvironmentVariable,
  type LogLevel,
  LOG_LEVELS,
  defaultPanelMaxInstances,
} from './config-table.js';

/** What loadConfig makes of each kind of variable. */
type ValueOf<V> = V extends { kind: 'integer' | 'bytes' }
  ? number
  : V extends { kind: 'list' }
    ? readonly string[]
    : V extends { kind: 'host-list' }
      ? readonly string[]
      : V extends { kind: 'allow-list' }
        ? readonly DomainRule[]
        : V extends { kind: 'choice'; values: readonly (infer T)[] }
          ? T
          : string;

/** A custom refusal: its message says what is wrong beside the variable's accepted values. */
function refuse(ctx: z.RefinementCtx, message: string): never {
  ctx.addIssue({ code: 'custom', message });
  return z.NEVER;
}

/** The validator of one variable of the table (config-table.ts). */
function schemaOf(variable: Variable): z.ZodType<unknown, string> {
  switch (variable.kind) {
    case 'integer':
      return z
        .string()
        .regex(/^\d+$/)
        .transform(Number)
        .pipe(z.number().int().min(variable.min).max(variable.max));
    case 'bytes':
      return z
        .string()
        .transform((text, ctx) => parseByteSize(text) ?? refuse(ctx, 'not a size'))
        .pipe(z.number().min(variable.min).max(variable.max));
    case 'text':
      return z.string();
    case 'list':
      return z.string().transform((value) =>
        Object.freeze(
          value
            .split(',')
            .map((item) => item.trim())
            .filter((item) => item !== ''),
        ),
      );
    case 'choice':
      return z.enum(variable.values as [string, ...string[]]);
    case 'pattern':
      return z.string().max(variable.maxLength).regex(new RegExp(variable.pattern));
    case 'allow-list':
      return z.string().transform((value, ctx) => {
        try {
          return parseAllowList(value);
        } catch (error) {
          return refuse(ctx, (error as Error).message);
        }
      });
    case 'host-list':
      return z.string().transform((value, ctx) => {
        try {
          return parseHostList(value);
        } catch (error) {
          return refuse(ctx, (error as Error).message);
        }
      });
    case 'store-url':
      return z.string().transform((value, ctx) => {
        const address = parseStoreUrl(value);
        return typeof address === 'string' ? refuse(ctx, address) : value;
      });
  }
}

const schemas = Object.fromEntries(
  Object.entries(variables).map(([name, variable]) => [name, schemaOf(variable)]),
) as Record<EnvironmentVariable, z.ZodType<unknown, string>>;

type Parsed = { [K in EnvironmentVariable]: ValueOf<Variables[K]> | undefined };

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
  /** What the store keeps of each panel besides its state and history. */
  readonly panelRetention: {
    /** Definitions kept, the current one included (PANEL_REVISIONS). */
    readonly revisions: number;
    /** The log ring: lines and bytes (PANEL_LOG_LINES, PANEL_LOG_BYTES). */
    readonly logLines: number;
    readonly logBytes: number;
    /** Request records (Idempotency-Key) kept per panel (IDEMPOTENCY_KEYS). */
    readonly requestKeys: number;
  };
  /** How long a request record answers retries, and the largest return value it keeps. */
  readonly requestRecords: { readonly ttlMs: number; readonly resultBytes: number };
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
    readonly pipelineDepth: number;
    readonly maxPipelined: number;
    readonly maxUnsentBytes: number;
    readonly maxUnsentBytesTotal: number;
    readonly writeTimeoutMs: number;
  };
  /** METRICS_CACHE_MS: a rendered /metrics is served again for this long (0: rendered every scrape). */
  readonly metricsCacheMs: number;
  /** The Host names answered (hosts.ts): ALLOWED_HOSTS and the Service's names. */
  readonly allowedHosts: {
    readonly extra: readonly string[];
    readonly service?: { readonly name: string; readonly namespace?: string };
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
      readonly topology: StoreTopology;
      readonly keyPrefix: string;
      readonly historyLength: number;
      readonly historyBytes: number;
      readonly timeoutMs: number;
      readonly tlsCaFile?: string;
      /** With STORE_TOPOLOGY=sentinel: the master's name and the Sentinels, STORE_URL's first. */
      readonly sentinel?: {
        readonly masterName: string;
        readonly nodes: readonly { readonly host: string; readonly port: number }[];
      };
      /** Replicas that must hold a commit before it is acknowledged (WAIT), and how long to wait. */
      readonly ack: { readonly replicas: number; readonly timeoutMs: number };
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

/** Validates the environment; throws ConfigError listing every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): KernelConfig {
  const problems: string[] = [];
  const parsed = {} as Record<string, unknown>;
  for (const [name, variable] of Object.entries(variables) as [EnvironmentVariable, Variable][]) {
    const raw = env[name];
    const value = raw === undefined || raw.trim() === '' ? fallbackOf(variable) : raw.trim();
    if (value === undefined) continue;
    const result = schemas[name].safeParse(value);
    if (result.success) {
      parsed[name] = result.data;
    } else {
      const detail = result.error.issues.find((issue) => issue.code === 'custom')?.message;
      // A store URL carries the store's password: its problem is named, its value never shown.
      const shown = variable.kind === 'store-url' ? name : `${name}=${JSON.stringify(raw)}`;
      problems.push(`${shown} is invalid${detail ? ` (${detail})` : ''}: expected ${variable.accepted}`);
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
  if (p.STORE_URL !== undefined && p.STORE_TOPOLOGY === 'cluster') {
    const address = parseStoreUrl(p.STORE_URL);
    if (typeof address !== 'string' && address.database !== 0) {
      problems.push(
        `STORE_URL selects database ${address.database}, but STORE_TOPOLOGY is cluster: Redis Cluster has database 0 only`,
      );
    }
  }
  const eventProblem = eventBudgetProblem(p.MAX_EVENT_BYTES, p.WS_MAX_BUFFERED_BYTES);
  if (eventProblem !== undefined) problems.push(eventProblem);
  const maxEventBytes =
    p.MAX_EVENT_BYTES ??
    (p.WS_MAX_BUFFERED_BYTES === undefined ? 0 : defaultMaxEventBytes(p.WS_MAX_BUFFERED_BYTES));
  if (p.STORE_TLS_CA_FILE !== undefined && !p.STORE_URL?.startsWith('rediss:')) {
    problems.push('STORE_TLS_CA_FILE is set but STORE_URL is not a rediss:// URL');
  }
  const sentinelNodes = sentinelProblems(env, p, problems);
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
          ...(p.STORE_TOPOLOGY === 'sentinel'
            ? { sentinel: { masterName: p.STORE_SENTINEL_MASTER!, nodes: sentinelNodes } }
            : {}),
          ack: {
            replicas: p.STORE_ACK_REPLICAS ?? defaultAckReplicas(p.STORE_TOPOLOGY!),
            timeoutMs: p.STORE_ACK_TIMEOUT_MS!,
          },
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
    maxPanels:
      p.MAX_PANELS ?? (store.kind === 'embedded' ? DEFAULT_MAX_PANELS.embedded : DEFAULT_MAX_PANELS.shared),
    maxStateBytes: p.MAX_STATE_BYTES!,
    panelRetention: {
      revisions: p.PANEL_REVISIONS!,
      logLines: p.PANEL_LOG_LINES!,
      logBytes: p.PANEL_LOG_BYTES!,
      requestKeys: p.IDEMPOTENCY_KEYS!,
    },
    requestRecords: { ttlMs: p.IDEMPOTENCY_TTL_SECONDS! * 1000, resultBytes: p.IDEMPOTENCY_RESULT_BYTES! },
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
    shutdownGraceMs: p.SHUTDOWN_GRACE_MS ?? p.EXECUTION_DEADLINE_MS! + SHUTDOWN_DRAIN_MS,
    http: {
      requestTimeoutMs: p.HTTP_REQUEST_TIMEOUT_MS!,
      headersTimeoutMs: p.HTTP_HEADERS_TIMEOUT_MS!,
      keepAliveTimeoutMs: p.HTTP_KEEP_ALIVE_TIMEOUT_MS!,
      pipelineDepth: p.HTTP_PIPELINE_DEPTH!,
      maxPipelined: p.HTTP_MAX_PIPELINED!,
      maxUnsentBytes: p.HTTP_MAX_UNSENT_BYTES!,
      maxUnsentBytesTotal: p.HTTP_MAX_UNSENT_BYTES_TOTAL!,
      writeTimeoutMs: p.HTTP_WRITE_TIMEOUT_MS!,
    },
    metricsCacheMs: p.METRICS_CACHE_MS!,
    allowedHosts: {
      extra: p.ALLOWED_HOSTS!,
      ...(p.SERVICE_NAME === undefined || p.SERVICE_NAME === ''
        ? {}
        : {
            service: {
              name: p.SERVICE_NAME,
              ...(p.SERVICE_NAMESPACE === undefined || p.SERVICE_NAMESPACE === ''
                ? {}
                : { namespace: p.SERVICE_NAMESPACE }),
            },
          }),
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

/**
 * The Sentinels to start from (STORE_URL's host first, then STORE_SENTINELS), adding to `problems`
 * what is wrong: a Sentinel setting without STORE_TOPOLOGY=sentinel, or an entry that is not host:port.
 */
function sentinelProblems(
  env: NodeJS.ProcessEnv,
  p: Parsed,
  problems: string[],
): { host: string; port: number }[] {
  const isSet = (name: EnvironmentVariable) => (env[name] ?? '').trim() !== '';
  if (p.STORE_TOPOLOGY !== 'sentinel') {
    for (const name of ['STORE_SENTINELS', 'STORE_SENTINEL_MASTER'] as const) {
      if (isSet(name)) {
        problems.push(
          `${name} is set but STORE_TOPOLOGY is ${p.STORE_TOPOLOGY ?? 'invalid'}: it is read with STORE_TOPOLOGY=sentinel only`,
        );
      }
    }
    return [];
  }
  const nodes: { host: string; port: number }[] = [];
  if (p.STORE_URL !== undefined) {
    const address = parseStoreUrl(p.STORE_URL);
    if (typeof address !== 'string') nodes.push({ host: address.host, port: address.port });
  }
  for (const entry of p.STORE_SENTINELS ?? []) {
    const node = parseHostPort(entry);
    if (typeof node === 'string') {
      problems.push(`STORE_SENTINELS is invalid (${node}): expected a comma-separated list of host:port`);
    } else if (!nodes.some((known) => known.host === node.host && known.port === node.port)) {
      nodes.push(node);
    }
  }
  return nodes;
}

/** MAX_EVENT_BYTES when unset: 1 MiB, or half of a subscriber's send buffer when that is less. */
export function defaultMaxEventBytes(maxBufferedBytes: number): number {
  return Math.min(1024 * 1024, Math.floor(maxBufferedBytes / 2));
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
export function describeVariables(): {
  name: EnvironmentVariable;
  accepted: string;
  description: string;
  fallback?: string;
}[] {
  return (Object.entries(variables) as [EnvironmentVariable, Variable][]).map(([name, variable]) => {
    const fallback = fallbackOf(variable);
    return {
      name,
      accepted: variable.accepted,
      description: variable.description,
      ...(fallback === undefined ? {} : { fallback }),
    };
  });
}
