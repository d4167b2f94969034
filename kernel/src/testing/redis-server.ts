// Real Redis servers for the tests: Debian's redis-server on 127.0.0.1, standalone (AOF on, so a
// restart keeps the data) or a 3-master Cluster made with `redis-cli --cluster create`. Each is
// started in a directory of its own and stopped by PID.

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
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
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], {
    timeout: 30_000,
  });
  return stdout.trim();
}

class RedisProcess {
  private child: ChildProcess | undefined;

  constructor(
    readonly port: number,
    readonly dir: string,
    private readonly extra: string[],
  ) {}

  async start(): Promise<void> {
    const child = spawn(
      'redis-server',
      [
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
    await this.signal('SIGTERM');
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
  readonly topology: 'standalone' | 'cluster';
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
