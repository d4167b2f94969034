// The connection to Redis (standalone or Cluster) as the Redis store needs it: scripts by SHA
// with a fall-back to EVAL, sharded pub/sub, fail-fast commands while the server is away (no
// offline queue, a command timeout) and a signal when it comes back.

import { readFileSync } from 'node:fs';
import { createClient, createCluster } from '@redis/client';
import type { Logger } from 'pino';
import { KernelError } from '../errors.js';
import type { Script } from './redis-scripts.js';

export type Topology = 'standalone' | 'cluster';

export interface RedisLinkOptions {
  readonly url: string;
  readonly topology: Topology;
  readonly tlsCaFile?: string;
  /** How long one command may take before it fails with STORE_UNAVAILABLE. */
  readonly commandTimeoutMs: number;
  readonly name: string;
}

export type RedisReply = null | string | number | RedisReply[];
type Listener = (message: string) => void;

/** The few operations of node-redis's client and cluster classes this link uses. */
interface Commands {
  sendCommand(args: string[], options?: { timeout?: number }): Promise<unknown>;
  sSubscribe(channel: string, listener: Listener): Promise<void>;
  sUnsubscribe(channel: string, listener: Listener): Promise<void>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  connect(): Promise<unknown>;
  close(): Promise<void>;
  destroy(): void;
}

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
  private readonly sendOnCluster?: (firstKey: string, args: string[]) => Promise<unknown>;
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
      this.sendOnCluster = (firstKey, args) =>
        (cluster as unknown as ClusterSend).sendCommand(firstKey, false, args, { timeout: this.timeout });
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

  private send(firstKey: string, args: string[]): Promise<unknown> {
    if (!this.connected) {
      return Promise.reject(
        new KernelError('STORE_UNAVAILABLE', 'the panel store is unreachable; reconnecting'),
      );
    }
    if (this.sendOnCluster) return this.sendOnCluster(firstKey, args);
    return this.commands.sendCommand(args, { timeout: this.timeout });
  }

  /** Redis' own error replies are bugs of ours; anything else means the store is unavailable. */
  private failure(error: unknown): Error {
    if (error instanceof KernelError) return error;
    const message = error instanceof Error ? error.message : String(error);
    if (
      error instanceof Error &&
      error.constructor.name === 'ErrorReply' &&
      !/^(LOADING|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|READONLY)/.test(message)
    ) {
      return error;
    }
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
    options: { timeout: number },
  ): Promise<unknown>;
}
