// The connection to Redis (standalone, Cluster, or a primary found through Sentinel) as the Redis
// store needs it: scripts by SHA with a fall-back to EVAL, sharded pub/sub, fail-fast commands
// while the server is away (no offline queue, a command timeout), a signal when it comes back,
// and WAIT for the replicas' acknowledgement of what this connection wrote.

import { readFileSync } from 'node:fs';
import { createClient, createCluster, createSentinel, ErrorReply } from '@redis/client';
import type { Logger } from 'pino';
import { KernelError } from '../errors.js';
import type { Script } from './redis-scripts.js';

export type Topology = 'standalone' | 'cluster' | 'sentinel';

export interface RedisLinkOptions {
  readonly url: string;
  readonly topology: Topology;
  readonly tlsCaFile?: string;
  /** How long one command may take before it fails with STORE_UNAVAILABLE. */
  readonly commandTimeoutMs: number;
  readonly name: string;
  /** With the sentinel topology: the master's name and the Sentinels to start from. */
  readonly sentinel?: {
    readonly masterName: string;
    readonly nodes: readonly { readonly host: string; readonly port: number }[];
  };
}

export type RedisReply = null | string | number | RedisReply[];

/** A command refused before it was sent: the connection is down. Nothing of it reached the store. */
class StoreOfflineError extends KernelError {
  constructor() {
    super('STORE_UNAVAILABLE', 'the panel store is unreachable; reconnecting');
  }
}

/**
 * Redis refused a write because it holds its `maxmemory` (with `noeviction`, which the store
 * requires). Nothing of the command was applied; deleting panels (whose scripts may run when
 * full) or a larger maxmemory makes room, so it is a retryable 503.
 */
export class StoreFullError extends KernelError {
  constructor(detail: string) {
    super(
      'STORE_UNAVAILABLE',
      `the panel store is full (Redis reached its maxmemory) and accepts no more data until panels are deleted or its maxmemory is raised; nothing was applied: ${detail}`,
    );
  }
}

/**
 * False when a failed command certainly did nothing (it was never sent, or Redis refused it);
 * true when it may have run: it was sent and no answer came (a timeout, a dropped connection).
 */
export function maybeApplied(error: unknown): boolean {
  if (error instanceof StoreOfflineError || error instanceof StoreFullError) return false;
  return !(error instanceof ErrorReply);
}
type Listener = (message: string) => void;

/** The few operations of node-redis's client and cluster classes this link uses. */
interface Commands {
  sendCommand(args: string[], options?: { abortSignal?: AbortSignal }): Promise<unknown>;
  sSubscribe(channel: string, listener: Listener): Promise<void>;
  sUnsubscribe(channel: string, listener: Listener): Promise<void>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  connect(): Promise<unknown>;
  close(): Promise<void>;
  destroy(): void;
}

/** Error replies of a server that is there but cannot serve just now: 503, retry. */
const TRANSIENT_REPLY = /^(LOADING|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|READONLY|BUSY|MISCONF|NOREPLICAS)/;

/** Reconnects 50 ms after a drop, backing off to 1 s between attempts, forever. */
const reconnectStrategy = (retries: number): number => Math.min(50 * 2 ** retries, 1000);

/** The URL without credentials, for logs and /health. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}

export class RedisLink {
  private readonly commands: Commands;
  private readonly subscriber: Commands;
  private readonly cluster: boolean;
  private readonly timeout: number;
  private readonly sendOnCluster?: (
    firstKey: string,
    args: string[],
    signal: AbortSignal,
  ) => Promise<unknown>;
  private readonly sendOnSentinel?: (args: string[], signal: AbortSignal) => Promise<unknown>;
  /** The WAIT in flight on the commands connection, and the one that will follow it. */
  private waiting?: Promise<number>;
  private nextWait?: Promise<number>;
  /** Which connections are up; the store is available when all are. */
  private readonly up = new Map<string, boolean>();
  private connected = false;
  private everConnected = false;
  private readonly reconnectListeners = new Set<() => void>();

  constructor(
    options: RedisLinkOptions,
    private readonly logger: Logger,
  ) {
    this.cluster = options.topology === 'cluster';
    this.timeout = options.commandTimeoutMs;
    const parsed = new URL(options.url);
    const tls = parsed.protocol === 'rediss:';
    const socket = {
      reconnectStrategy,
      connectTimeout: Math.max(1000, options.commandTimeoutMs),
      ...(tls
        ? { tls: true as const, ...(options.tlsCaFile ? { ca: readFileSync(options.tlsCaFile) } : {}) }
        : {}),
    };
    const common = { disableOfflineQueue: true, name: options.name, socket };
    if (this.cluster) {
      const credentials = {
        ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
        ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
      };
      const cluster = createCluster({
        rootNodes: [{ url: options.url, ...common }],
        defaults: { ...common, ...credentials },
      });
      this.commands = cluster as unknown as Commands;
      this.subscriber = this.commands;
      this.sendOnCluster = (firstKey, args, signal) =>
        (cluster as unknown as ClusterSend).sendCommand(firstKey, false, args, { abortSignal: signal });
    } else if (options.topology === 'sentinel') {
      const sentinel = sentinelClient(options, parsed, common);
      this.commands = sentinel as unknown as Commands;
      this.subscriber = this.commands;
      this.sendOnSentinel = (args, signal) =>
        (sentinel as unknown as SentinelSend).sendCommand(false, args, { abortSignal: signal });
      // A new primary: what was published meanwhile on the old one reached nobody here, so the
      // subscribers catch up from the history (the reconnect listeners), as after an outage.
      sentinel.on('topology-change', (event: unknown) => {
        if ((event as { type?: string }).type !== 'MASTER_CHANGE') return;
        this.logger.warn(
          { primary: (event as { node?: unknown }).node },
          'the panel store has a new primary',
        );
        if (this.connected) for (const listener of this.reconnectListeners) listener();
      });
      sentinel.on('reconnecting', () => this.lost('commands', new Error('finding the primary')));
    } else {
      const client = createClient({ url: options.url, ...common });
      this.commands = client;
      this.subscriber = client.duplicate();
    }
    for (const [role, client] of [
      ['commands', this.commands],
      ['subscriber', this.subscriber],
    ] as const) {
      if (role === 'subscriber' && client === this.commands) continue;
      this.up.set(role, false);
      if (options.topology === 'sentinel') {
        // The Sentinel client reports every node's trouble as an error while it finds the
        // primary again on its own; readiness ('reconnecting', 'ready') is what counts.
        client.on('error', (error) => this.logger.debug({ err: error }, 'panel store (Sentinel)'));
        client.on('ready', () => this.found(role));
        client.on('end', () => this.lost(role, new Error('connection closed')));
        continue;
      }
      client.on('error', (error) => this.lost(role, error));
      client.on('ready', () => this.found(role));
      client.on('end', () => this.lost(role, new Error('connection closed')));
    }
  }

  get available(): boolean {
    return this.connected;
  }

  async connect(): Promise<void> {
    try {
      await this.commands.connect();
      if (this.subscriber !== this.commands) await this.subscriber.connect();
    } catch (error) {
      throw new KernelError(
        'STORE_UNAVAILABLE',
        `the panel store cannot be reached: ${(error as Error).message}`,
      );
    }
    for (const role of this.up.keys()) this.up.set(role, true);
    this.connected = true;
    this.everConnected = true;
  }

  onReconnect(listener: () => void): void {
    this.reconnectListeners.add(listener);
  }

  async close(): Promise<void> {
    this.connected = false;
    this.everConnected = false; // what follows is no outage

    const clients = this.subscriber === this.commands ? [this.commands] : [this.commands, this.subscriber];
    await Promise.all(clients.map((client) => client.close().catch(() => client.destroy())));
  }

  /** Runs a script whose keys all share one hash tag (the first key routes it on a Cluster). */
  async run(
    script: Script,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<RedisReply> {
    const tail = [String(keys.length), ...keys, ...args.map(String)];
    try {
      return (await this.send(keys[0]!, ['EVALSHA', script.sha, ...tail])) as RedisReply;
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw this.failure(error);
      try {
        return (await this.send(keys[0]!, ['EVAL', script.source, ...tail])) as RedisReply;
      } catch (retried) {
        throw this.failure(retried);
      }
    }
  }

  /** A plain command (e.g. CONFIG GET) on the node of `firstKey` (any node for standalone). */
  async command(firstKey: string, args: string[]): Promise<RedisReply> {
    try {
      return (await this.send(firstKey, args)) as RedisReply;
    } catch (error) {
      throw this.failure(error);
    }
  }

  /**
   * How many replicas hold everything this kernel wrote on the connection so far (WAIT), waiting
   * up to `timeoutMs` for `replicas` of them. WAIT blocks the connection, so at most one is in
   * flight: callers that come while one is answered share the next one, which covers all of
   * their writes (group acknowledgement). On a Cluster each shard has its own replicas, so the
   * WAIT goes to the node of `firstKey`, unshared.
   */
  acknowledged(firstKey: string, replicas: number, timeoutMs: number): Promise<number> {
    const wait = () =>
      this.send(firstKey, ['WAIT', String(replicas), String(timeoutMs)], timeoutMs + this.timeout).then(
        Number,
        (error: unknown) => {
          throw this.failure(error);
        },
      );
    if (this.cluster) return wait();
    if (this.waiting === undefined) {
      const current = wait().finally(() => {
        if (this.waiting === current) this.waiting = undefined;
      });
      this.waiting = current;
      return current;
    }
    if (this.nextWait === undefined) {
      const settled = this.waiting.then(
        () => {},
        () => {},
      );
      const next = settled.then(() => {
        this.nextWait = undefined;
        const current = wait().finally(() => {
          if (this.waiting === current) this.waiting = undefined;
        });
        this.waiting = current;
        return current;
      });
      this.nextWait = next;
    }
    return this.nextWait;
  }

  async subscribe(channel: string, listener: Listener): Promise<void> {
    try {
      await this.subscriber.sSubscribe(channel, listener);
    } catch (error) {
      throw this.failure(error);
    }
  }

  async unsubscribe(channel: string, listener: Listener): Promise<void> {
    await this.subscriber.sUnsubscribe(channel, listener).catch(() => {});
  }

  /**
   * Sends a command that fails after STORE_TIMEOUT_MS without an answer. The timeout measures
   * the store, not this process. A timer that fires late means this kernel was starved of CPU
   * (throttled, a busy node) meanwhile — the command may not even have been written until just
   * now — so the store gets one more STORE_TIMEOUT_MS of a running kernel. And the verdict waits
   * for one more turn of the event loop (setImmediate runs after the poll phase that reads
   * sockets), because when a stalled loop resumes its timers run before its sockets are read: an
   * answer already waiting is used, not reported as a timeout.
   */
  private send(firstKey: string, args: string[], timeoutMs = this.timeout): Promise<unknown> {
    if (!this.connected) return Promise.reject(new StoreOfflineError());
    const abort = new AbortController();
    const reply = this.sendOnCluster
      ? this.sendOnCluster(firstKey, args, abort.signal)
      : this.sendOnSentinel
        ? this.sendOnSentinel(args, abort.signal)
        : this.commands.sendCommand(args, { abortSignal: abort.signal });
    return new Promise((resolve, reject) => {
      let settled = false;
      let extended = false;
      let due = performance.now() + timeoutMs;
      const verdict = (): void => {
        if (settled) return;
        settled = true;
        abort.abort();
        reject(new Error(`no answer within ${timeoutMs} ms (STORE_TIMEOUT_MS ${this.timeout})`));
      };
      const expire = (): void => {
        const late = performance.now() - due;
        if (!extended && late > timeoutMs / 2) {
          extended = true;
          due = performance.now() + timeoutMs;
          timer = setTimeout(expire, timeoutMs);
          return;
        }
        setImmediate(verdict);
      };
      let timer = setTimeout(expire, timeoutMs);
      reply.then(
        (value) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }

  /**
   * Redis' own error replies are bugs of ours, except a full store (OOM) and the states a
   * server passes through (loading, a failover, a long script, a failing disk); anything else
   * means the store is unavailable.
   */
  private failure(error: unknown): Error {
    if (error instanceof KernelError) return error;
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof ErrorReply && message.startsWith('OOM')) return new StoreFullError(message);
    if (error instanceof ErrorReply && !TRANSIENT_REPLY.test(message)) return error;
    return new KernelError('STORE_UNAVAILABLE', `the panel store did not answer: ${message}`);
  }

  private lost(role: string, error: unknown): void {
    if (!this.everConnected) return;
    if (this.up.get(role)) {
      this.logger.warn({ role, err: error }, 'panel store connection lost; reconnecting');
    }
    this.up.set(role, false);
    this.connected = false;
  }

  private found(role: string): void {
    if (!this.everConnected) return;
    this.up.set(role, true);
    if (this.connected || [...this.up.values()].some((up) => !up)) return;
    this.connected = true;
    this.logger.info('panel store connection restored');
    for (const listener of this.reconnectListeners) listener();
  }
}

interface ClusterSend {
  sendCommand(
    firstKey: string,
    isReadonly: boolean,
    args: string[],
    options: { abortSignal: AbortSignal },
  ): Promise<unknown>;
}

interface SentinelSend {
  sendCommand(isReadonly: boolean, args: string[], options: { abortSignal: AbortSignal }): Promise<unknown>;
}

/**
 * node-redis' Sentinel client: it asks the Sentinels for the primary, follows their switch-master
 * announcements, and re-resolves the primary when a write is answered READONLY (a demoted node)
 * or its connection drops, before sending the command again — so nothing is ever written to a
 * demoted primary. One connection to the primary (masterPoolSize 1): WAIT covers what that one
 * connection wrote. Sharded pub/sub goes to the primary too (SSUBSCRIBE works on a standalone
 * Redis 7), on a connection of its own that moves with it.
 */
function sentinelClient(
  options: RedisLinkOptions,
  parsed: URL,
  common: { disableOfflineQueue: boolean; name: string; socket: Record<string, unknown> },
) {
  if (options.sentinel === undefined) throw new Error('the sentinel topology needs its Sentinels');
  const credentials = {
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
  };
  const database = Number(parsed.pathname.replace(/^\//, '') || '0');
  return createSentinel({
    name: options.sentinel.masterName,
    sentinelRootNodes: options.sentinel.nodes.map(({ host, port }) => ({ host, port })),
    masterPoolSize: 1,
    nodeClientOptions: { ...common, ...credentials, ...(database === 0 ? {} : { database }) },
    sentinelClientOptions: { socket: common.socket, ...credentials },
  });
}
