// Child processes for the benchmarks: the built kernel and the bare Express peer.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const kernelEntry = fileURLToPath(new URL('../../../dist/index.js', import.meta.url));
const bareEntry = fileURLToPath(new URL('./bare-express.js', import.meta.url));

export interface Child {
  readonly process: ChildProcess;
  readonly url: string;
  readonly wsUrl: string;
  stop(): Promise<void>;
}

function firstJsonLine<T>(
  child: ChildProcess,
  pick: (record: Record<string, unknown>) => T | undefined,
): Promise<T> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString('utf8');
      for (const line of buffered.split('\n').slice(0, -1)) {
        try {
          const found = pick(JSON.parse(line) as Record<string, unknown>);
          if (found !== undefined) {
            child.stdout?.off('data', onData);
            resolve(found);
            return;
          }
        } catch {
          // not a JSON line
        }
      }
      buffered = buffered.slice(buffered.lastIndexOf('\n') + 1);
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
  });
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
}

/** A port that was free a moment ago (the kernel binds it right after). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Starts `node kernel/dist/index.js` with LOG_LEVEL=warn (no per-request log lines) and waits for /ready. */
export async function startKernel(env: Record<string, string> = {}): Promise<Child> {
  const httpPort = await freePort();
  const wsPort = await freePort();
  const child = spawn(process.execPath, [kernelEntry], {
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      HTTP_PORT: String(httpPort),
      WS_PORT: String(wsPort),
      LOG_LEVEL: 'warn',
      CACHE_DIR: mkdtempSync(join(tmpdir(), 'nexus-bench-')),
      WS_MAX_MESSAGES_PER_SECOND: '100000',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${httpPort}`;
  await waitReady(url, child);
  return { process: child, url, wsUrl: `ws://127.0.0.1:${wsPort}`, stop: stopper(child) };
}

export async function waitReady(url: string, child: ChildProcess): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`the kernel exited with ${child.exitCode}`);
    if (
      await fetch(`${url}/ready`).then(
        (response) => response.status === 200,
        () => false,
      )
    )
      return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the kernel did not become ready');
}

export async function startBareExpress(responseBody: unknown): Promise<Child> {
  const child = spawn(process.execPath, [bareEntry], {
    env: { ...process.env, BARE_RESPONSE: JSON.stringify(responseBody) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await firstJsonLine(child, (record) =>
    typeof record.port === 'number' ? record.port : undefined,
  );
  return { process: child, url: `http://127.0.0.1:${port}`, wsUrl: '', stop: stopper(child) };
}

/** Resident set size of a process in MiB, from /proc/<pid>/status. */
export async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return kib / 1024;
}
