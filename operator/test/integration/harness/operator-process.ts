// The real operator, `node operator/dist/index.js`, run as a child process with the environment
// interface it documents. Its logs go to a file in the run directory, named after its identity.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

import type { HarnessState } from './cluster.js';
import { eventually } from './eventually.js';
import { OPERATOR_ENTRY } from './paths.js';

export interface OperatorOptions {
  /** Lease identity (POD_NAME) and log file name. */
  identity: string;
  /** Overrides of the operator's environment (short lease periods by default, see below). */
  env?: Record<string, string>;
}

/** Lease periods short enough for a takeover test, long enough for a loaded 2-core machine. */
export const TEST_LEASE = { durationSeconds: 6, renewDeadlineSeconds: 4, retryPeriodSeconds: 1 } as const;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port assigned'));
      });
    });
  });
}

export interface MetricSample {
  labels: Record<string, string>;
  value: number;
}

/** Reads the samples of metric `name` from Prometheus text exposition. */
export function parseMetricSamples(text: string, name: string): MetricSample[] {
  const line = new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`);
  return text.split('\n').flatMap((row) => {
    const match = line.exec(row);
    if (!match) return [];
    const labels = Object.fromEntries(
      [...(match[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((pair) => [pair[1]!, pair[2]!]),
    );
    return [{ labels, value: Number(match[2]) }];
  });
}

export class OperatorProcess {
  private exit: Promise<number | null>;
  private exitCode: number | null | undefined;

  private constructor(
    readonly identity: string,
    readonly metricsPort: number,
    readonly logFile: string,
    private readonly child: ChildProcess,
  ) {
    this.exit = new Promise((resolve) => {
      child.once('exit', (code) => {
        this.exitCode = code; // null when ended by a signal
        resolve(code);
      });
    });
  }

  static async start(state: HarnessState, options: OperatorOptions): Promise<OperatorProcess> {
    if (!existsSync(OPERATOR_ENTRY)) {
      throw new Error(`${OPERATOR_ENTRY} does not exist: run \`make build-operator\` first`);
    }
    const metricsPort = await freePort();
    const logFile = join(state.runDir, 'logs', `operator-${options.identity}.log`);
    const log = createWriteStream(logFile, { flags: 'a' });
    const child = spawn(process.execPath, [OPERATOR_ENTRY], {
      env: {
        PATH: process.env.PATH ?? '',
        KUBECONFIG: state.operatorKubeconfig,
        WATCH_NAMESPACE: '',
        LOG_LEVEL: 'debug',
        KERNEL_IMAGE: 'localhost/nexus-kernel:integration',
        STORE_IMAGE: 'localhost/nexus/redis:7.0',
        METRICS_PORT: String(metricsPort),
        LEADER_ELECT: 'true',
        LEADER_ELECTION_NAMESPACE: state.operatorNamespace,
        LEADER_ELECTION_ID: 'nexus-operator',
        LEASE_DURATION_SECONDS: String(TEST_LEASE.durationSeconds),
        RENEW_DEADLINE_SECONDS: String(TEST_LEASE.renewDeadlineSeconds),
        RETRY_PERIOD_SECONDS: String(TEST_LEASE.retryPeriodSeconds),
        POD_NAME: options.identity,
        RESYNC_PERIOD_SECONDS: '300',
        MAX_CONCURRENT_RECONCILES: '4',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    const operator = new OperatorProcess(options.identity, metricsPort, logFile, child);
    running.add(operator);
    await eventually(`operator ${options.identity} to answer /healthz (log: ${logFile})`, async () => {
      if (operator.exitCode !== undefined) {
        throw new Error(`operator exited with ${String(operator.exitCode)} during start-up`);
      }
      return (await operator.probe('/healthz')) === 200;
    });
    return operator;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get exited(): boolean {
    return this.exitCode !== undefined;
  }

  /** The HTTP status of GET `path` on the metrics port, or 0 when nothing answers. */
  async probe(path: string): Promise<number> {
    try {
      const response = await fetch(`http://127.0.0.1:${this.metricsPort}${path}`, {
        signal: AbortSignal.timeout(2000),
      });
      await response.arrayBuffer();
      return response.status;
    } catch {
      return 0;
    }
  }

  async metrics(): Promise<string> {
    const response = await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`, {
      signal: AbortSignal.timeout(5000),
    });
    return response.text();
  }

  /** Samples of one metric in /metrics: its labels and value, one entry per series. */
  async metricSamples(name: string): Promise<MetricSample[]> {
    return parseMetricSamples(await this.metrics(), name);
  }

  /** The sum of every series of one metric (0 when it has none yet). */
  async metricSum(name: string): Promise<number> {
    return (await this.metricSamples(name)).reduce((sum, sample) => sum + sample.value, 0);
  }

  /** SIGTERM and wait for the exit code (the operator releases its lease and exits 0). */
  async stop(timeoutMs = 20_000): Promise<number | null> {
    return this.signal('SIGTERM', timeoutMs);
  }

  /** SIGKILL: the operator gets no chance to clean up, as when its node dies. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL', 10_000);
  }

  private async signal(signal: NodeJS.Signals, timeoutMs: number): Promise<number | null> {
    if (!this.exited) this.child.kill(signal);
    const timer = new Promise<'timeout'>((resolve) =>
      setTimeout(() => resolve('timeout'), timeoutMs).unref(),
    );
    const outcome = await Promise.race([this.exit, timer]);
    running.delete(this);
    if (outcome === 'timeout') {
      this.child.kill('SIGKILL');
      await this.exit;
      throw new Error(`operator ${this.identity} did not exit within ${timeoutMs / 1000}s of ${signal}`);
    }
    return outcome;
  }
}

const running = new Set<OperatorProcess>();

/**
 * Stops every operator a test file left running (afterAll), so no process outlives the suite:
 * SIGTERM first, so the lease is released for the next file, SIGKILL when that does not work.
 */
export async function stopAllOperators(): Promise<void> {
  await Promise.all(
    [...running].map(async (operator) => {
      try {
        await operator.stop(10_000);
      } catch {
        await operator.kill();
      }
    }),
  );
}
