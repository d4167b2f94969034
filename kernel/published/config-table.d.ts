// Generated from kernel/src/ by the TypeScript compiler (kernel/src/config-table.test.ts, which
// fails while this file differs): edit the source, then run
//   cd kernel && NEXUS_WRITE_CONFIG_TABLE=1 node --experimental-vm-modules ../node_modules/jest/bin/jest.js config-table
export { type DomainRule, parseAllowList, parseDomainRule } from './extensions/allowlist.js';
export declare const LOG_LEVELS: readonly ["fatal", "error", "warn", "info", "debug", "trace", "silent"];
export type LogLevel = (typeof LOG_LEVELS)[number];
export declare const STORE_TOPOLOGIES: readonly ["standalone", "cluster", "sentinel"];
export type StoreTopology = (typeof STORE_TOPOLOGIES)[number];
interface Described {
    /** What the variable accepts, in the words of the error a bad value gets. */
    readonly accepted: string;
    /** What the variable is for. */
    readonly description: string;
}
export interface IntegerVariable extends Described {
    readonly kind: 'integer';
    readonly min: number;
    readonly max: number;
    readonly default?: number;
}
/** A byte size: plain bytes, k/kb/m/mb/g/gb (powers of 1000) or Ki/Mi/Gi (powers of 1024). */
export interface BytesVariable extends Described {
    readonly kind: 'bytes';
    readonly min: number;
    readonly max: number;
    readonly default?: string;
}
export interface TextVariable extends Described {
    readonly kind: 'text';
    readonly default?: string;
}
/** A comma-separated list; blanks around items and empty items are dropped. */
export interface ListVariable extends Described {
    readonly kind: 'list';
    readonly default: string;
}
export interface ChoiceVariable<T extends string = string> extends Described {
    readonly kind: 'choice';
    readonly values: readonly T[];
    readonly default: T;
}
/** Text of at most maxLength characters that the regular expression `pattern` matches. */
export interface PatternVariable extends Described {
    readonly kind: 'pattern';
    readonly pattern: string;
    readonly maxLength: number;
    readonly default: string;
}
/** HTTP_ALLOWED_DOMAINS' entries (extensions/allowlist.ts parses them). */
export interface AllowListVariable extends Described {
    readonly kind: 'allow-list';
    readonly default: string;
}
/** ALLOWED_HOSTS' entries (http/hosts.ts parses them): `name`, `*.domain` or `*`. */
export interface HostListVariable extends Described {
    readonly kind: 'host-list';
    readonly default: string;
}
/** A Redis URL, as parseStoreUrl accepts it. */
export interface StoreUrlVariable extends Described {
    readonly kind: 'store-url';
}
export type Variable = IntegerVariable | BytesVariable | TextVariable | ListVariable | ChoiceVariable | PatternVariable | AllowListVariable | HostListVariable | StoreUrlVariable;
/** Redis URL schemes: plain and TLS. */
export declare const STORE_URL_SCHEMES: readonly ["redis:", "rediss:"];
export interface StoreAddress {
    host: string;
    port: number;
    tls: boolean;
    /** The database number of the URL's path (0 when it has none). */
    database: number;
}
/**
 * Parses redis://[user][:password]@host[:port][/db] or rediss://…; a string is what is wrong with
 * it. The answer never repeats the URL: it carries the password.
 */
export declare function parseStoreUrl(text: string): StoreAddress | string;
/** The largest STORE_ACK_REPLICAS: replicas a commit may wait for. */
export declare const MAX_ACK_REPLICAS = 8;
/** STORE_ACK_REPLICAS when unset: a replicated store acknowledges a commit once a replica holds it. */
export declare function defaultAckReplicas(topology: StoreTopology): number;
/**
 * One `host:port` of STORE_SENTINELS: a name or IPv4 address, or `[v6]`, and up to 5 digits (the
 * port's range is checked apart). Published so that a schema can hold entries to the same rule.
 */
export declare const HOST_PORT_PATTERN = "^(?:\\[([0-9A-Fa-f:.]+)\\]|([A-Za-z0-9._-]+)):(\\d{1,5})$";
/**
 * Parses one `host:port` of STORE_SENTINELS (`[v6]:port` too); a string is what is wrong with it.
 */
export declare function parseHostPort(text: string): {
    host: string;
    port: number;
} | string;
/** MAX_PANELS when unset: with the embedded store, and with a shared one (STORE_URL). */
export declare const DEFAULT_MAX_PANELS: Readonly<{
    embedded: 1000;
    shared: 10000;
}>;
/** SHUTDOWN_GRACE_MS when unset: EXECUTION_DEADLINE_MS plus this, for the sockets to drain. */
export declare const SHUTDOWN_DRAIN_MS = 5000;
/**
 * A panel's share of the sandbox instances unless PANEL_MAX_INSTANCES says otherwise: half, so
 * one panel's parked handlers never take the instances every other panel needs (gate.ts).
 */
export declare function defaultPanelMaxInstances(maxInstances: number): number;
export declare const variables: Readonly<{
    HOST: TextVariable;
    HTTP_PORT: IntegerVariable;
    WS_PORT: IntegerVariable;
    LOG_LEVEL: ChoiceVariable<"fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent">;
    NODE_ENV: TextVariable;
    MEMORY_LIMIT_MB: IntegerVariable;
    MAX_INSTANCES: IntegerVariable;
    MIN_INSTANCES: IntegerVariable;
    TIMEOUT_MS: IntegerVariable;
    MAX_HOST_CALLS: IntegerVariable;
    MAX_STATE_MUTATIONS: IntegerVariable;
    MAX_EVENTS: IntegerVariable;
    MAX_SUSPENSIONS: IntegerVariable;
    MAX_VALUE_BYTES: BytesVariable & {
        readonly default: string;
    };
    MAX_EVENT_BYTES: BytesVariable;
    CACHE_DIR: TextVariable;
    CACHE_MAX_BYTES: BytesVariable & {
        readonly default: string;
    };
    PERSIST_DIR: TextVariable;
    CORS_ORIGINS: ListVariable;
    HTTP_ALLOWED_DOMAINS: AllowListVariable;
    HTTP_EXTENSION_TIMEOUT_MS: IntegerVariable;
    HTTP_EXTENSION_MAX_CONCURRENCY: IntegerVariable;
    HTTP_EXTENSION_MAX_RESPONSE_BYTES: BytesVariable & {
        readonly default: string;
    };
    JWT_SECRET: TextVariable;
    JWT_ISSUER: TextVariable;
    JWT_AUDIENCE: TextVariable;
    JWT_MAX_AGE_SECONDS: IntegerVariable;
    JWT_CLOCK_SKEW_SECONDS: IntegerVariable;
    BODY_LIMIT: BytesVariable & {
        readonly default: string;
    };
    MAX_PANELS: IntegerVariable;
    STORE_URL: StoreUrlVariable;
    STORE_TOPOLOGY: ChoiceVariable<"standalone" | "cluster" | "sentinel">;
    STORE_SENTINELS: ListVariable;
    STORE_SENTINEL_MASTER: PatternVariable;
    STORE_ACK_REPLICAS: IntegerVariable;
    STORE_ACK_TIMEOUT_MS: IntegerVariable;
    STORE_KEY_PREFIX: PatternVariable;
    STORE_HISTORY: IntegerVariable;
    STORE_HISTORY_BYTES: BytesVariable & {
        readonly default: string;
    };
    PANEL_REVISIONS: IntegerVariable;
    PANEL_LOG_LINES: IntegerVariable;
    PANEL_LOG_BYTES: BytesVariable & {
        readonly default: string;
    };
    IDEMPOTENCY_KEYS: IntegerVariable;
    IDEMPOTENCY_TTL_SECONDS: IntegerVariable;
    IDEMPOTENCY_RESULT_BYTES: BytesVariable & {
        readonly default: string;
    };
    STORE_TIMEOUT_MS: IntegerVariable;
    STORE_TLS_CA_FILE: TextVariable;
    POD_NAME: TextVariable;
    PANEL_CACHE_MAX_BYTES: BytesVariable & {
        readonly default: string;
    };
    PANEL_MAX_WAITERS: IntegerVariable;
    PANEL_MAX_INSTANCES: IntegerVariable;
    EXECUTION_QUEUE_MAX: IntegerVariable;
    SCHEMA_TIMEOUT_MS: IntegerVariable;
    SCHEMA_QUEUE_MAX: IntegerVariable;
    SCHEMA_PANEL_QUEUE_MAX: IntegerVariable;
    SCHEMA_WAIT_MS: IntegerVariable;
    SCHEMA_WORKERS: IntegerVariable;
    SCHEMA_WORKER_HEAP_MB: IntegerVariable;
    EXECUTION_DEADLINE_MS: IntegerVariable;
    CACHE_SEED_DIR: TextVariable;
    MAX_STATE_BYTES: BytesVariable & {
        readonly default: string;
    };
    SHUTDOWN_GRACE_MS: IntegerVariable;
    HTTP_REQUEST_TIMEOUT_MS: IntegerVariable;
    HTTP_HEADERS_TIMEOUT_MS: IntegerVariable;
    HTTP_KEEP_ALIVE_TIMEOUT_MS: IntegerVariable;
    HTTP_PIPELINE_DEPTH: IntegerVariable;
    HTTP_MAX_PIPELINED: IntegerVariable;
    HTTP_MAX_UNSENT_BYTES: BytesVariable & {
        readonly default: string;
    };
    HTTP_MAX_UNSENT_BYTES_TOTAL: BytesVariable & {
        readonly default: string;
    };
    HTTP_WRITE_TIMEOUT_MS: IntegerVariable;
    METRICS_CACHE_MS: IntegerVariable;
    ALLOWED_HOSTS: HostListVariable;
    SERVICE_NAME: PatternVariable;
    SERVICE_NAMESPACE: PatternVariable;
    WS_MAX_MESSAGE_BYTES: BytesVariable & {
        readonly default: string;
    };
    WS_MAX_BUFFERED_BYTES: BytesVariable & {
        readonly default: string;
    };
    WS_HEARTBEAT_MS: IntegerVariable;
    WS_MAX_MESSAGES_PER_SECOND: IntegerVariable;
    WS_MAX_IN_FLIGHT: IntegerVariable;
    WS_MAX_SUBSCRIBES_PER_SECOND: IntegerVariable;
    WS_MAX_CONNECTIONS: IntegerVariable;
    WS_MAX_CONNECTIONS_PER_ADDRESS: IntegerVariable;
}>;
export type Variables = typeof variables;
export type EnvironmentVariable = keyof Variables;
/** The variable names, in the table's order. */
export declare const VARIABLE_NAMES: readonly EnvironmentVariable[];
/** The text loadConfig parses when a variable is unset (none: the kernel derives it, or leaves it unset). */
export declare function fallbackOf(variable: Variable): string | undefined;
