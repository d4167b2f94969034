// Starts real kernels for the integration tests: in-process (with the real bridge) or as a child
// process running the built kernel/dist/index.js (for signals). Loopback only, ephemeral ports.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import WebSocket from 'ws';
import { loadConfig } from '../config.js';
import { type Kernel, startKernel } from '../kernel.js';
import { createBridgeSandbox } from '../sandbox/bridge.js';
import { track, tracked } from './cleanup.js';

export interface TestKernel {
  readonly kernel: Kernel;
  readonly url: string;
  readonly wsUrl: string;
  readonly dataDir: string;
  stop(): Promise<void>;
}

/** A fresh directory for one kernel's persisted panels. */
export async function makeDataDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'nexus-kernel-test-'));
}

// The compiled guest module is cached across kernels (compiling it is slow); panels are not.
const sharedModuleCache = join(tmpdir(), 'nexus-kernel-test-module-cache');

const baseEnv = (dataDir: string): Record<string, string> => ({
  HOST: '127.0.0.1',
  HTTP_PORT: '0',
  WS_PORT: '0',
  LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
  CACHE_DIR: sharedModuleCache,
  PERSIST_DIR: dataDir,
  MAX_INSTANCES: '4',
  MIN_INSTANCES: '1',
  TIMEOUT_MS: '3000',
  SHUTDOWN_GRACE_MS: '5000',
  // Tests read a counter right after what moves it: every scrape renders afresh.
  METRICS_CACHE_MS: '0',
});

/** Starts a kernel in this process. `dataDir` is reused when given (restart tests) and kept. */
export async function startTestKernel(
  env: Record<string, string> = {},
  dataDir?: string,
): Promise<TestKernel> {
  const dir = dataDir ?? (await makeDataDir());
  const config = loadConfig({ ...baseEnv(dir), ...env });
  const kernel = await startKernel({
    config,
    logger: pino({ level: config.logLevel }),
    createSandbox: createBridgeSandbox,
  });
  const url = `http://127.0.0.1:${kernel.httpPort}`;
  return {
    kernel,
    url,
    wsUrl: `ws://127.0.0.1:${kernel.wsPort}`,
    dataDir: dir,
    stop: tracked(`in-process kernel ${url}`, async () => {
      await kernel.shutdown('test finished');
      if (dataDir === undefined) await rm(dir, { recursive: true, force: true });
    }),
  };
}

export interface ChildKernel {
  readonly process: ChildProcess;
  readonly url: string;
  readonly wsUrl: string;
  readonly logs: string[];
  exited: Promise<number | null>;
}

const entry = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

/** Runs `node kernel/dist/index.js` (build it first: make build-kernel) and waits for /ready. */
export async function startChildKernel(env: Record<string, string>, dataDir: string): Promise<ChildKernel> {
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run make build-kernel first`);
  const child = spawn(process.execPath, [entry], {
    env: { ...process.env, ...baseEnv(dataDir), LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // A test kills its child kernel itself (it is testing signals); one it forgets is killed for it.
  const untrack = track({
    name: `child kernel pid ${child.pid}`,
    pid: child.pid,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  });
  void exited.then(untrack);
  const ports = await new Promise<{ httpPort: number; wsPort: number }>((resolve, reject) => {
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let newline;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        logs.push(line);
        const record = JSON.parse(line) as { msg?: string; httpPort?: number; wsPort?: number };
        if (record.msg === 'listening') resolve({ httpPort: record.httpPort!, wsPort: record.wsPort! });
      }
    });
    child.stderr.on('data', (chunk: Buffer) => logs.push(chunk.toString('utf8')));
    void exited.then((code) =>
      reject(new Error(`the kernel exited with ${code} before listening:\n${logs.join('\n')}`)),
    );
    // A kernel that never says it listens (a log level that hides the line, a hang) is stopped,
    // not left running after the suite.
    const stuck = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the kernel logged no "listening" line within 30 s:\n${logs.join('\n')}`));
    }, 30_000);
    void exited.then(() => clearTimeout(stuck));
    child.stdout.on('data', () => {
      if (logs.some((line) => line.includes('"msg":"listening"'))) clearTimeout(stuck);
    });
  });
  const url = `http://127.0.0.1:${ports.httpPort}`;
  for (let attempt = 0; ; attempt += 1) {
    const ready = await fetch(`${url}/ready`).then(
      (response) => response.status === 200,
      () => false,
    );
    if (ready) break;
    if (attempt > 200) throw new Error(`the kernel did not become ready:\n${logs.join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { process: child, url, wsUrl: `ws://127.0.0.1:${ports.wsPort}`, logs, exited };
}

/** A WebSocket client that records every message and lets a test wait for a matching one. */
export class TestSocket {
  readonly messages: Record<string, unknown>[] = [];
  private waiters: {
    match: (message: Record<string, unknown>) => boolean;
    resolve: (message: Record<string, unknown>) => void;
  }[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
      this.messages.push(message);
      this.waiters = this.waiters.filter((waiter) => {
        if (!waiter.match(message)) return true;
        waiter.resolve(message);
        return false;
      });
    });
    this.closed = new Promise((resolve) =>
      socket.once('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') })),
    );
    const untrack = track({
      name: `WebSocket client of ${socket.url.split('?')[0]}`,
      stop: async () => {
        socket.terminate();
        await this.closed;
      },
    });
    void this.closed.then(untrack);
  }

  static open(url: string, options: WebSocket.ClientOptions = {}): Promise<TestSocket> {
    const socket = new WebSocket(url, options);
    const client = new TestSocket(socket);
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(client));
      socket.once('error', reject);
      socket.once('unexpected-response', (_request, response) => {
        reject(new Error(`upgrade refused with ${response.statusCode}`));
        // With a listener here ws leaves the refused handshake open: abort it (its 'error' goes
        // to the listener above), or the socket never closes.
        socket.terminate();
      });
    });
  }

  /** Resolves with the first message (already received or future) for which `match` holds. */
  next(
    match: (message: Record<string, unknown>) => boolean,
    timeoutMs = 5000,
  ): Promise<Record<string, unknown>> {
    const seen = this.messages.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(this.messages)}`),
          ),
        timeoutMs,
      );
      this.waiters.push({
        match,
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message);
        },
      });
    });
  }

  ofType(type: string, timeoutMs?: number): Promise<Record<string, unknown>> {
    return this.next((message) => message.type === type, timeoutMs);
  }

  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  close(): void {
    this.socket.close();
  }
}

/** Sends JSON with `method` and returns status, headers and parsed body. */
export async function sendJson(
  method: string,
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

/** Posts JSON and returns status and parsed body. */
export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const { status, body: answer } = await sendJson('POST', url, body, headers);
  return { status, body: answer };
}

/** PUTs JSON (a panel definition) and returns status, headers and parsed body. */
export function putJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  return sendJson('PUT', url, body, headers);
}

/** Creates panels (with the `http` extension) titled `title` on the kernel at `url`, and triggers their tools. */
export function panelClient(url: string, title: string) {
  return {
    async create(tools: Record<string, unknown>, state: Record<string, unknown> = {}): Promise<string> {
      const created = await postJson(`${url}/panels`, { title, state, extensions: ['http'], tools });
      if (created.status !== 201)
        throw new Error(`creating a panel answered ${created.status}: ${JSON.stringify(created.body)}`);
      return created.body.id as string;
    },
    trigger: (id: string, tool: string, args: unknown = {}) =>
      postJson(`${url}/panels/${id}/trigger/${tool}`, args),
  };
}

export const counterPanel = {
  title: 'Counter',
  state: { count: 0, loading: false },
  tools: {
    increment: {
      description: 'Add to the counter',
      args: {
        type: 'object',
        properties: { by: { type: 'number' } },
        required: ['by'],
        additionalProperties: false,
      },
      capabilities: ['state:read:*', 'state:write:count'],
      handler: '$state.count += $args.by; return $state.count',
    },
  },
};
