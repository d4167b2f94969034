// Generated from kernel/src/ by the TypeScript compiler (kernel/src/config-table.test.ts, which
// fails while this file differs): edit the source, then run
//   cd kernel && NEXUS_WRITE_CONFIG_TABLE=1 node --experimental-vm-modules ../node_modules/jest/bin/jest.js config-table
// The kernel's environment variables: each one's name, what it accepts, its default and what it is
// for. One table: loadConfig (config.ts) builds its validators from it, docs/kernel.md lists it, and
// the operator writes the kernel's environment from it. The operator imports it as
// `@nexus/kernel/config-table` (kernel/published/, this file and the modules it imports compiled and
// committed, so that the operator's image needs none of the kernel's dependencies): this module and
// those import nothing but Node's own modules and @nexus/bridge/limits. Adding a variable is one
// entry in `variables`.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runtimeOptions as sandbox } from '@nexus/bridge/limits';
// The parser of HTTP_ALLOWED_DOMAINS' entries, published with the table (it is dependency-free too),
// so that the operator refuses an entry the kernel would refuse.
export { parseAllowList, parseDomainRule } from './extensions/allowlist.js';
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
export const STORE_TOPOLOGIES = ['standalone', 'cluster', 'sentinel'];
function undescribed(variable) {
    return {
        ...variable,
        describe: (description) => Object.freeze({ ...variable, description }),
    };
}
function integer(min, max, fallback) {
    return undescribed({
        kind: 'integer',
        min,
        max,
        accepted: `an integer from ${min} to ${max}`,
        ...(fallback === undefined ? {} : { default: fallback }),
    });
}
const MiB = 1024 * 1024;
function fromSandbox(range) {
    return integer(range.min, range.max, range.default);
}
function bytes(min, max, fallback) {
    return undescribed({
        kind: 'bytes',
        min,
        max,
        accepted: `a byte size from ${min} to ${max} bytes (e.g. 1048576, 512kb, 1mb, 128Mi)`,
        ...(fallback === undefined ? {} : { default: fallback }),
    });
}
function text(fallback) {
    return undescribed({
        kind: 'text',
        accepted: 'any text',
        ...(fallback === undefined ? {} : { default: fallback }),
    });
}
function list(fallback = '') {
    return undescribed({ kind: 'list', accepted: 'a comma-separated list', default: fallback });
}
function oneOf(values, fallback) {
    return undescribed({
        kind: 'choice',
        values,
        accepted: values.length === 2 ? values.join(' or ') : `one of ${values.join(', ')}`,
        default: fallback,
    });
}
/** Redis URL schemes: plain and TLS. */
export const STORE_URL_SCHEMES = ['redis:', 'rediss:'];
/**
 * Parses redis://[user][:password]@host[:port][/db] or rediss://…; a string is what is wrong with
 * it. The answer never repeats the URL: it carries the password.
 */
export function parseStoreUrl(text) {
    let url;
    try {
        url = new URL(text.trim());
    }
    catch {
        return 'is not a URL';
    }
    if (!STORE_URL_SCHEMES.includes(url.protocol)) {
        return `has scheme "${url.protocol.replace(/:$/, '')}"; redis or rediss is expected`;
    }
    if (!url.hostname)
        return 'names no host';
    const db = url.pathname.replace(/^\//, '');
    if (db !== '' && !/^\d+$/.test(db))
        return `has path "/${db}"; only a database number may follow the host`;
    return {
        host: url.hostname,
        port: url.port ? Number(url.port) : 6379,
        tls: url.protocol === 'rediss:',
        database: db === '' ? 0 : Number(db),
    };
}
/** The largest STORE_ACK_REPLICAS: replicas a commit may wait for. */
export const MAX_ACK_REPLICAS = 8;
/** STORE_ACK_REPLICAS when unset: a replicated store acknowledges a commit once a replica holds it. */
export function defaultAckReplicas(topology) {
    return topology === 'sentinel' ? 1 : 0;
}
/**
 * One `host:port` of STORE_SENTINELS: a name or IPv4 address, or `[v6]`, and up to 5 digits (the
 * port's range is checked apart). Published so that a schema can hold entries to the same rule.
 */
export const HOST_PORT_PATTERN = '^(?:\\[([0-9A-Fa-f:.]+)\\]|([A-Za-z0-9._-]+)):(\\d{1,5})$';
/**
 * Parses one `host:port` of STORE_SENTINELS (`[v6]:port` too); a string is what is wrong with it.
 */
export function parseHostPort(text) {
    const match = new RegExp(HOST_PORT_PATTERN).exec(text.trim());
    if (!match)
        return `"${text}" is not host:port`;
    const port = Number(match[3]);
    if (port < 1 || port > 65535)
        return `"${text}" has port ${port}; expected 1 to 65535`;
    return { host: (match[1] ?? match[2]), port };
}
/** MAX_PANELS when unset: with the embedded store, and with a shared one (STORE_URL). */
export const DEFAULT_MAX_PANELS = Object.freeze({ embedded: 1000, shared: 10_000 });
/** SHUTDOWN_GRACE_MS when unset: EXECUTION_DEADLINE_MS plus this, for the sockets to drain. */
export const SHUTDOWN_DRAIN_MS = 5000;
/**
 * A panel's share of the sandbox instances unless PANEL_MAX_INSTANCES says otherwise: half, so
 * one panel's parked handlers never take the instances every other panel needs (gate.ts).
 */
export function defaultPanelMaxInstances(maxInstances) {
    return Math.max(1, Math.floor(maxInstances / 2));
}
/** A Kubernetes name (a DNS label), or empty for unset. */
const DNS_LABEL_OR_EMPTY = '^(?:[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?)?$';
export const variables = Object.freeze({
    HOST: text('0.0.0.0').describe('listen address of both servers'),
    HTTP_PORT: integer(0, 65535, 3000).describe('HTTP API (0 = any free port)'),
    WS_PORT: integer(0, 65535, 3001).describe('WebSocket server, a port other than HTTP_PORT'),
    LOG_LEVEL: oneOf(LOG_LEVELS, 'info').describe('pino log level'),
    NODE_ENV: text('production').describe('informational'),
    // The sandbox's own ranges (generated from the bridge's one table), so a value the bridge would
    // refuse is refused here, naming the variable.
    MEMORY_LIMIT_MB: integer(Math.ceil(sandbox.memoryLimitBytes.min / MiB), Math.floor(sandbox.memoryLimitBytes.max / MiB), sandbox.memoryLimitBytes.default / MiB).describe('linear-memory cap of one sandbox instance, in MiB'),
    MAX_INSTANCES: fromSandbox(sandbox.maxInstances).describe('sandbox pool size (running and parked handlers)'),
    MIN_INSTANCES: fromSandbox(sandbox.minInstances).describe('sandbox instances kept warm, at most MAX_INSTANCES'),
    TIMEOUT_MS: fromSandbox(sandbox.timeoutMs).describe("a handler's time budget: CPU time across all of an execution's segments"),
    MAX_HOST_CALLS: fromSandbox(sandbox.maxHostCalls).describe('host calls per execution'),
    MAX_STATE_MUTATIONS: fromSandbox(sandbox.maxStateMutations).describe('state mutations per execution'),
    MAX_EVENTS: fromSandbox(sandbox.maxEvents).describe('events (and, separately, view commands) per execution'),
    MAX_SUSPENSIONS: fromSandbox(sandbox.maxSuspensions).describe('$ext calls per execution'),
    // The one budget of bytes a handler hands over in an execution (state writes, events, view
    // commands, $ext arguments, the return value), and the part of it events may take.
    MAX_VALUE_BYTES: bytes(sandbox.maxValueBytes.min, sandbox.maxValueBytes.max, '16Mi').describe('bytes of values one execution may hand over: state writes, events, view commands, $ext arguments, the return value'),
    // Unset: 1 MiB, or half of a subscriber's send buffer when that is less (defaultMaxEventBytes).
    MAX_EVENT_BYTES: bytes(sandbox.maxEventBytes.min, sandbox.maxEventBytes.max).describe('bytes of events one execution may emit (unset: 1Mi, or half of WS_MAX_BUFFERED_BYTES when less)'),
    CACHE_DIR: text(join(tmpdir(), 'nexus-cache')).describe("the sandbox's compiled-module and bytecode cache"),
    CACHE_MAX_BYTES: bytes(0, 2 ** 50, '128Mi').describe('size of the volume at CACHE_DIR'),
    PERSIST_DIR: text().describe("the embedded store's files (unset: CACHE_DIR/panels); with a shared store, panels found here at start are imported once"),
    CORS_ORIGINS: list().describe('origins allowed by CORS (* for any)'),
    HTTP_ALLOWED_DOMAINS: undescribed({
        kind: 'allow-list',
        accepted: 'a comma-separated list of host, *.host, IPv4 address, CIDR block, [IPv6 address] or [IPv6 block] entries, each optionally with a port (host:port, 10.0.0.0/8:5432, [fd00::1]:8080)',
        default: '',
    }).describe('where the http extension may go'),
    HTTP_EXTENSION_TIMEOUT_MS: integer(1, 600_000, 10_000).describe('timeout of one http extension call'),
    HTTP_EXTENSION_MAX_CONCURRENCY: integer(1, 10_000, 16).describe('http extension calls in flight at once per kernel'),
    HTTP_EXTENSION_MAX_RESPONSE_BYTES: bytes(1, 64 * 1024 ** 2, '1Mi').describe('largest http extension response'),
    JWT_SECRET: text().describe('HS256 secret; authentication is on when set'),
    JWT_ISSUER: text().describe('required iss claim when set'),
    JWT_AUDIENCE: text().describe('required aud claim when set'),
    JWT_MAX_AGE_SECONDS: integer(60, 31_536_000, 86_400).describe('oldest token accepted'),
    JWT_CLOCK_SKEW_SECONDS: integer(0, 3600, 60).describe("leeway for the issuer's clock"),
    BODY_LIMIT: bytes(1024, 64 * 1024 ** 2, '1Mi').describe('largest request body'),
    MAX_PANELS: integer(1, 1_000_000).describe(`panels of the whole store (unset: ${DEFAULT_MAX_PANELS.embedded} embedded, ${DEFAULT_MAX_PANELS.shared} with STORE_URL)`),
    STORE_URL: undescribed({
        kind: 'store-url',
        accepted: 'redis://[user][:password]@host[:port][/db] or rediss://… (unset: the embedded store)',
    }).describe('the shared panel store; the only place its credentials go'),
    STORE_TOPOLOGY: oneOf(STORE_TOPOLOGIES, 'standalone').describe("cluster: STORE_URL names a seed node; sentinel: STORE_URL names a Sentinel, its credentials are the data nodes'"),
    STORE_SENTINELS: list().describe('with STORE_TOPOLOGY=sentinel, more Sentinels to start from: host:port,...'),
    STORE_SENTINEL_MASTER: undescribed({
        kind: 'pattern',
        pattern: '^[A-Za-z0-9._-]+$',
        maxLength: 64,
        accepted: 'up to 64 letters, digits, dots, underscores or dashes',
        default: 'nexus',
    }).describe('with STORE_TOPOLOGY=sentinel, the name the Sentinels monitor the primary by'),
    // Default: 1 with STORE_TOPOLOGY=sentinel, else 0, derived in loadConfig.
    STORE_ACK_REPLICAS: integer(0, MAX_ACK_REPLICAS).describe('replicas that must hold a commit before it is acknowledged (WAIT; unset: 1 with sentinel, else 0)'),
    STORE_ACK_TIMEOUT_MS: integer(10, 60_000, 2000).describe('how long a commit waits for STORE_ACK_REPLICAS replicas; beyond, 504 COMMIT_UNCONFIRMED (it may be applied)'),
    STORE_KEY_PREFIX: undescribed({
        kind: 'pattern',
        pattern: '^[^{}\\s]*$',
        maxLength: 64,
        accepted: 'up to 64 characters without braces or spaces',
        default: 'nexus:',
    }).describe('prefix of every key, so runtimes can share one Redis'),
    STORE_HISTORY: integer(0, 100_000, 256).describe('PATCHes kept per panel for clients that resume'),
    STORE_HISTORY_BYTES: bytes(0, 256 * 1024 ** 2, '1Mi').describe('bytes of PATCHes kept per panel'),
    PANEL_REVISIONS: integer(1, 100, 5).describe('definitions kept per panel, the current one included (PUT /panels/:id, rollback)'),
    PANEL_LOG_LINES: integer(0, 10_000, 200).describe('handler log lines kept per panel, fleet-wide (GET /panels/:id/logs); 0 keeps none'),
    PANEL_LOG_BYTES: bytes(0, 16 * 1024 ** 2, '256Ki').describe('bytes of handler log lines kept per panel'),
    IDEMPOTENCY_KEYS: integer(1, 10_000, 256).describe('Idempotency-Key records kept per panel for retried triggers; the oldest are forgotten beyond'),
    IDEMPOTENCY_TTL_SECONDS: integer(1, 7 * 24 * 3600, 3600).describe('how long a retried trigger with the same Idempotency-Key is answered from its record'),
    IDEMPOTENCY_RESULT_BYTES: bytes(0, 1024 ** 2, '1Ki').describe('largest return value a request record keeps (a larger one is replayed without it)'),
    STORE_TIMEOUT_MS: integer(50, 60_000, 2000).describe('a slower store command fails with 503'),
    STORE_TLS_CA_FILE: text().describe('PEM CA bundle for rediss://'),
    POD_NAME: text().describe("this kernel's name (unset: the host name)"),
    PANEL_CACHE_MAX_BYTES: bytes(0, 16 * 1024 ** 3, '64Mi').describe("bound on this kernel's cache of shared panels"),
    PANEL_MAX_WAITERS: integer(1, 100_000, 256).describe('executions of this kernel that may wait on one panel'),
    // Default: half of MAX_INSTANCES (at least 1), derived in loadConfig.
    PANEL_MAX_INSTANCES: integer(1, sandbox.maxInstances.max).describe('sandbox instances the executions of one panel may hold at once (unset: half of MAX_INSTANCES)'),
    EXECUTION_QUEUE_MAX: integer(1, 1_000_000, 1024).describe('executions of this kernel that may wait to start'),
    SCHEMA_TIMEOUT_MS: integer(1, 60_000, 200).describe("CPU time checking one trigger's arguments may use"),
    SCHEMA_QUEUE_MAX: integer(1, 1_000_000, 1024).describe('argument checks that may wait for a schema worker'),
    SCHEMA_PANEL_QUEUE_MAX: integer(1, 1_000_000, 64).describe('argument checks of one panel that may wait'),
    SCHEMA_WAIT_MS: integer(100, 600_000, 10_000).describe('wall-clock time a check may wait for its answer'),
    SCHEMA_WORKERS: integer(1, 64, 2).describe('schema worker threads'),
    SCHEMA_WORKER_HEAP_MB: integer(16, 4096, 64).describe('heap of each schema worker thread, in MiB'),
    EXECUTION_DEADLINE_MS: fromSandbox(sandbox.executionDeadlineMs).describe('wall-clock bound of one execution, at least TIMEOUT_MS'),
    CACHE_SEED_DIR: text().describe('read-only directory with a compiled sandbox module of the same build'),
    MAX_STATE_BYTES: bytes(1024, 256 * 1024 ** 2, '1Mi').describe('largest state of one panel, as JSON'),
    // Up to its default for the longest execution deadline.
    SHUTDOWN_GRACE_MS: integer(0, sandbox.executionDeadlineMs.max + SHUTDOWN_DRAIN_MS).describe(`how long in-flight executions may run on after SIGTERM (unset: EXECUTION_DEADLINE_MS + ${SHUTDOWN_DRAIN_MS})`),
    HTTP_REQUEST_TIMEOUT_MS: integer(1000, 3_600_000, 30_000).describe('whole-request timeout'),
    HTTP_HEADERS_TIMEOUT_MS: integer(1000, 600_000, 10_000).describe('time to send the request headers'),
    HTTP_KEEP_ALIVE_TIMEOUT_MS: integer(1, 600_000, 5000).describe('idle keep-alive connection lifetime'),
    // What a client that does not read its answers may cost (http/connection-guard.ts).
    HTTP_PIPELINE_DEPTH: integer(1, 64, 2).describe('requests of one connection handled at once; the ones pipelined behind them wait, unread'),
    HTTP_MAX_PIPELINED: integer(0, 10_000, 64).describe('requests one connection may have waiting; one more closes the connection'),
    HTTP_MAX_UNSENT_BYTES: bytes(64 * 1024, 1024 ** 3, '1Mi').describe("a connection's next request waits while this much of its answers is unsent"),
    HTTP_MAX_UNSENT_BYTES_TOTAL: bytes(1024 ** 2, 16 * 1024 ** 3, '128Mi').describe('unsent answers of all connections beyond which new requests get 503 OVERLOADED'),
    HTTP_WRITE_TIMEOUT_MS: integer(100, 3_600_000, 30_000).describe('a connection whose unsent answers make no progress this long is closed'),
    METRICS_CACHE_MS: integer(0, 60_000, 1000).describe('a rendered /metrics is served to every scrape for this long'),
    ALLOWED_HOSTS: undescribed({
        kind: 'host-list',
        accepted: 'a comma-separated list of host names, *.domain (its subdomains) or * (any host)',
        default: '',
    }).describe("Host names answered besides IP literals, localhost and the Service's names (an Ingress' host)"),
    SERVICE_NAME: undescribed({
        kind: 'pattern',
        pattern: DNS_LABEL_OR_EMPTY,
        maxLength: 63,
        accepted: 'a DNS label (the name of the Service in front of the kernels), or empty',
        default: '',
    }).describe('the Service in front of the kernels: its DNS names are answered (the operator sets it)'),
    SERVICE_NAMESPACE: undescribed({
        kind: 'pattern',
        pattern: DNS_LABEL_OR_EMPTY,
        maxLength: 63,
        accepted: "a DNS label (the Service's namespace), or empty",
        default: '',
    }).describe("the Service's namespace (the operator sets it)"),
    WS_MAX_MESSAGE_BYTES: bytes(64, 64 * 1024 ** 2, '64Ki').describe('largest WebSocket client message'),
    WS_MAX_BUFFERED_BYTES: bytes(1024, 1024 ** 3, '4Mi').describe('unsent data queued for one client'),
    WS_HEARTBEAT_MS: integer(100, 3_600_000, 30_000).describe('WebSocket ping interval'),
    WS_MAX_MESSAGES_PER_SECOND: integer(1, 1_000_000, 200).describe('per-connection message rate'),
    WS_MAX_IN_FLIGHT: integer(1, 10_000, 32).describe('triggers one connection may have running'),
    WS_MAX_SUBSCRIBES_PER_SECOND: integer(1, 10_000, 2).describe('SUBSCRIBEs one connection may send per second'),
    WS_MAX_CONNECTIONS: integer(1, 1_000_000, 10_000).describe('WebSocket connections of this kernel'),
    WS_MAX_CONNECTIONS_PER_ADDRESS: integer(0, 1_000_000, 0).describe('connections from one client address (0: no limit)'),
});
/** The variable names, in the table's order. */
export const VARIABLE_NAMES = Object.freeze(Object.keys(variables));
/** The text loadConfig parses when a variable is unset (none: the kernel derives it, or leaves it unset). */
export function fallbackOf(variable) {
    return 'default' in variable && variable.default !== undefined ? String(variable.default) : undefined;
}
