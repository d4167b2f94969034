// Real Redis servers for the tests: Debian's redis-server on 127.0.0.1, standalone (AOF on, so a
// restart keeps the data), a 3-master Cluster made with `redis-cli --cluster create`, or a
// primary with replicas watched by three Sentinels (`redis-server <conf> --sentinel`). Each is
// started in a directory of its own and stopped by PID.

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { track, tracked } from './cleanup.js';

const run = promisify(execFile);

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function cli(port: number, ...args: string[]): Promise<string> {
  return cliWithin(30_000, port, ...args);
}

/** redis-cli, given up after `timeoutMs` (a paused node never answers). */
async function cliWithin(timeoutMs: number, port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], {
    timeout: timeoutMs,
  });
  return stdout.trim();
}

class RedisProcess {
  private child: ChildProcess | undefined;

  constructor(
    readonly port: number,
    readonly dir: string,
    private readonly extra: string[],
    /** Instead of the data node's arguments (a Sentinel: its config file and --sentinel). */
    private readonly own?: string[],
  ) {}

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null;
  }

  async start(): Promise<void> {
    const child = spawn(
      'redis-server',
      this.own ?? [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--appendonly',
        'yes',
        '--appendfsync',
        'everysec',
        '--maxmemory-policy',
        'noeviction',
        '--save',
        '',
        '--protected-mode',
        'no',
        ...this.extra,
      ],
      { stdio: 'ignore' },
    );
    this.child = child;
    // Killed by PID if the test process exits with it still running; stopped if a test forgets.
    const untrack = track({ name: `redis-server on ${this.port}`, pid: child.pid, stop: () => this.stop() });
    child.once('exit', untrack);
    for (let attempt = 0; ; attempt += 1) {
      if (child.exitCode !== null)
        throw new Error(`redis-server on ${this.port} exited with ${child.exitCode}`);
      const pong = await cli(this.port, 'PING').catch(() => '');
      if (pong === 'PONG') return;
      if (attempt > 200) throw new Error(`redis-server on ${this.port} did not answer PING`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** SIGKILL (no shutdown save): what a crash looks like. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  async stop(): Promise<void> {
    this.child?.kill('SIGCONT'); // a paused process cannot act on SIGTERM
    await this.signal('SIGTERM');
  }

  /** SIGSTOP / SIGCONT: a node cut off from everyone, then back with what it held. */
  pause(paused: boolean): void {
    this.child?.kill(paused ? 'SIGSTOP' : 'SIGCONT');
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }
}

export interface TestRedis {
  readonly url: string;
  readonly topology: 'standalone' | 'cluster' | 'sentinel';
  /** Runs redis-cli against the first node (`-c` follows Cluster redirects). */
  cli(...args: string[]): Promise<string>;
  /** Runs redis-cli against every node (one answer per node). */
  cliEach(...args: string[]): Promise<string[]>;
  /** Runs redis-cli against one node (in the order of cliEach's answers). */
  cliNode(node: number, ...args: string[]): Promise<string>;
  /** Crashes every node and starts them again on the same ports and data. */
  restart(options?: { downMs?: number; onDown?: () => Promise<void> }): Promise<void>;
  stop(): Promise<void>;
}

/** `maxmemory` caps what the server holds (e.g. '64mb'); with noeviction it refuses writes past it. */
export interface RedisOptions {
  readonly maxmemory?: string;
}

const memoryArgs = (options: RedisOptions): string[] =>
  options.maxmemory === undefined ? [] : ['--maxmemory', options.maxmemory];

export async function startRedis(options: RedisOptions = {}): Promise<TestRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'nexus-redis-'));
  const server = new RedisProcess(await freePort(), dir, memoryArgs(options));
  await server.start();
  return {
    url: `redis://127.0.0.1:${server.port}`,
    topology: 'standalone',
    cli: (...args) => cli(server.port, ...args),
    cliEach: async (...args) => [await cli(server.port, ...args)],
    cliNode: (_node, ...args) => cli(server.port, ...args),
    async restart(options = {}) {
      // AOF everysec: give the last second a chance to reach the file, as the docs promise.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      await server.kill();
      await options.onDown?.();
      await new Promise((resolve) => setTimeout(resolve, options.downMs ?? 0));
      await server.start();
    },
    stop: tracked(`Redis (standalone) on ${server.port}`, async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    }),
  };
}

/** Three masters, no replicas: every slot is served, keys spread over all three. */
export async function startRedisCluster(options: RedisOptions = {}): Promise<TestRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'nexus-redis-cluster-'));
  const nodes: RedisProcess[] = [];
  for (let i = 0; i < 3; i += 1) {
    const port = await freePort();
    nodes.push(
      new RedisProcess(port, dir, [
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--appendfilename',
        `appendonly-${port}.aof`,
        '--appenddirname',
        `aof-${port}`,
        ...memoryArgs(options),
      ]),
    );
  }
  await Promise.all(nodes.map((node) => node.start()));
  await run(
    'redis-cli',
    [
      '--cluster',
      'create',
      ...nodes.map((node) => `127.0.0.1:${node.port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ],
    { timeout: 60_000 },
  );
  const first = nodes[0]!.port;
  for (let attempt = 0; ; attempt += 1) {
    const info = await cli(first, 'CLUSTER', 'INFO');
    if (info.includes('cluster_state:ok')) break;
    if (attempt > 400) throw new Error(`the cluster did not become ok:\n${info}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url: `redis://127.0.0.1:${first}`,
    topology: 'cluster',
    cli: (...args) => cli(first, '-c', ...args),
    cliEach: (...args) => Promise.all(nodes.map((node) => cli(node.port, ...args))),
    cliNode: (node, ...args) => cli(nodes[node]!.port, ...args),
    async restart(options = {}) {
      await new Promise((resolve) => setTimeout(resolve, 1100));
      await Promise.all(nodes.map((node) => node.kill()));
      await options.onDown?.();
      await new Promise((resolve) => setTimeout(resolve, options.downMs ?? 0));
      await Promise.all(nodes.map((node) => node.start()));
    },
    stop: tracked(`Redis Cluster on ${first}`, async () => {
      await Promise.all(nodes.map((node) => node.stop()));
      await rm(dir, { recursive: true, force: true });
    }),
  };
}

/** A primary, its replicas and three Sentinels; nodes are numbered as started, the primary 0. */
export interface TestRedisSentinel extends TestRedis {
  readonly topology: 'sentinel';
  readonly masterName: string;
  /** STORE_SENTINELS: the Sentinels besides the one in `url`. */
  readonly sentinels: string;
  readonly nodePorts: readonly number[];
  /** The data node the Sentinels name as primary now (its index in nodePorts). */
  primary(): Promise<number>;
  /** SIGKILL of one data node (what a crashed pod looks like). */
  killNode(node: number): Promise<void>;
  /** Starts a killed data node again on its port and files (a restarted pod). */
  startNode(node: number): Promise<void>;
  /** SIGSTOP (true) or SIGCONT (false) of one data node: cut off from everyone, then back. */
  pauseNode(node: number, paused: boolean): void;
  /** Waits (bounded) until the Sentinels name a primary other than `node`, and returns it. */
  promotedFrom(node: number, boundMs?: number): Promise<number>;
  /** Waits (bounded) until `node` replicates the primary with its link up. */
  replicating(node: number, boundMs?: number): Promise<void>;
}

export interface SentinelOptions {
  /** Replicas of the primary (default 1). */
  readonly replicas?: number;
  /** Sentinel's down-after-milliseconds (default 1000: a failover within seconds). */
  readonly downAfterMs?: number;
  readonly masterName?: string;
  /** min-replicas-to-write of the data nodes (default 1). */
  readonly minReplicasToWrite?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startRedisSentinel(options: SentinelOptions = {}): Promise<TestRedisSentinel> {
  const masterName = options.masterName ?? 'nexus';
  const dir = await mkdtemp(join(tmpdir(), 'nexus-redis-sentinel-'));
  const nodes: RedisProcess[] = [];
  const primaryPort = await freePort();
  for (let i = 0; i <= (options.replicas ?? 1); i += 1) {
    const port = i === 0 ? primaryPort : await freePort();
    nodes.push(
      new RedisProcess(port, dir, [
        '--appendfilename',
        `appendonly-${port}.aof`,
        '--appenddirname',
        `aof-${port}`,
        // A restarted node is a replica again once the Sentinels tell it which primary to follow.
        ...(i === 0 ? [] : ['--replicaof', '127.0.0.1', String(primaryPort)]),
        // A primary without a replica refuses writes (NOREPLICAS, nothing applied) rather than
        // apply changes no replica acknowledges: docs/kernel.md, the replicated store.
        '--min-replicas-to-write',
        String(options.minReplicasToWrite ?? 1),
        '--min-replicas-max-lag',
        '10',
      ]),
    );
  }
  for (const node of nodes) await node.start();
  const sentinels: RedisProcess[] = [];
  for (let i = 0; i < 3; i += 1) {
    const port = await freePort();
    const conf = join(dir, `sentinel-${port}.conf`);
    await writeFile(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        'protected-mode no',
        `dir ${dir}`,
        `sentinel monitor ${masterName} 127.0.0.1 ${primaryPort} 2`,
        `sentinel down-after-milliseconds ${masterName} ${options.downAfterMs ?? 1000}`,
        `sentinel failover-timeout ${masterName} 5000`,
        `sentinel parallel-syncs ${masterName} 1`,
        '',
      ].join('\n'),
    );
    sentinels.push(new RedisProcess(port, dir, [], [conf, '--sentinel']));
  }
  await Promise.all(sentinels.map((sentinel) => sentinel.start()));
  // The primary a majority of the Sentinels name, once it says it is one (during a failover the
  // Sentinels may disagree for a moment, and the one elected may not be promoted yet).
  const primary = async (): Promise<number> => {
    const named = await Promise.all(
      sentinels.map(async (sentinel) => {
        if (!sentinel.running) return -1;
        const answer = await cli(sentinel.port, 'SENTINEL', 'get-master-addr-by-name', masterName).catch(
          () => '',
        );
        const port = Number(answer.split('\n')[1]);
        return nodes.findIndex((node) => node.port === port);
      }),
    );
    for (const candidate of new Set(named)) {
      if (candidate < 0 || named.filter((each) => each === candidate).length < 2) continue;
      const role = await cliWithin(1000, nodes[candidate]!.port, 'ROLE').catch(() => '');
      if (role.startsWith('master')) return candidate;
    }
    throw new Error(`no primary that a majority of the Sentinels name (${named.join(', ')})`);
  };
  const replicating = async (node: number, boundMs = 30_000): Promise<void> => {
    const until = Date.now() + boundMs;
    for (;;) {
      const info = await cliWithin(1000, nodes[node]!.port, 'INFO', 'replication').catch(() => '');
      if (info.includes('role:slave') && info.includes('master_link_status:up')) return;
      if (Date.now() > until)
        throw new Error(`node ${node} does not replicate within ${boundMs} ms:\n${info}`);
      await sleep(50);
    }
  };
  // Every replica in sync and known to every Sentinel before the first failover may happen.
  for (let i = 1; i < nodes.length; i += 1) await replicating(i);
  const until = Date.now() + 30_000;
  for (const sentinel of sentinels) {
    for (;;) {
      const replicas = await cli(sentinel.port, 'SENTINEL', 'replicas', masterName).catch(() => '');
      const others = await cli(sentinel.port, 'SENTINEL', 'sentinels', masterName).catch(() => '');
      const seen = nodes.slice(1).every((node) => replicas.includes(String(node.port)));
      if (seen && (others.match(/^name$/gm) ?? []).length === sentinels.length - 1) break;
      if (Date.now() > until) throw new Error('the Sentinels did not find the replicas and each other');
      await sleep(100);
    }
  }
  const first = sentinels[0]!.port;
  return {
    url: `redis://127.0.0.1:${first}`,
    topology: 'sentinel',
    masterName,
    sentinels: sentinels
      .slice(1)
      .map((sentinel) => `127.0.0.1:${sentinel.port}`)
      .join(','),
    nodePorts: nodes.map((node) => node.port),
    primary,
    replicating,
    cli: async (...args) => cli(nodes[await primary()]!.port, ...args),
    cliEach: (...args) => Promise.all(nodes.map((node) => cli(node.port, ...args))),
    cliNode: (node, ...args) => cli(nodes[node]!.port, ...args),
    killNode: (node) => nodes[node]!.kill(),
    // As a pod's start-up would: a node that is not the primary the Sentinels name starts as
    // its replica, rather than as a second primary until the Sentinels demote it.
    async startNode(node) {
      const current = await primary();
      await nodes[node]!.start();
      if (current !== node)
        await cli(nodes[node]!.port, 'REPLICAOF', '127.0.0.1', String(nodes[current]!.port));
    },
    pauseNode: (node, paused) => nodes[node]!.pause(paused),
    async promotedFrom(node, boundMs = 30_000) {
      const until = Date.now() + boundMs;
      for (;;) {
        const now = await primary().catch(() => node);
        if (now !== node) return now;
        if (Date.now() > until) throw new Error(`no replica promoted within ${boundMs} ms`);
        await sleep(50);
      }
    },
    async restart(options = {}) {
      const node = await primary();
      await nodes[node]!.kill();
      await options.onDown?.();
      await sleep(options.downMs ?? 0);
      await nodes[node]!.start();
    },
    stop: tracked(`Redis with Sentinels on ${first}`, async () => {
      await Promise.all([...sentinels, ...nodes].map((process) => process.stop()));
      await rm(dir, { recursive: true, force: true });
    }),
  };
}
