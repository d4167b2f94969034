// `make bench-operator`: the operator process against the KWOK control plane.
//  - apply → Ready latency of one NexusRuntime (median of sequential runs)
//  - 500 NexusRuntimes applied at once → time until all are Ready, operator peak RSS, API requests
//  - idle: API requests per minute once everything is Ready (reads, writes, lease renewals)
// Figures are printed as a Markdown table for docs/benchmarks.md; nothing here asserts on timing.
import { readFileSync } from 'node:fs';

import { Watch } from '@kubernetes/client-node';

import { operatorRequests, type RequestCounts } from '../harness/audit.js';
import { harnessState } from '../harness/cluster.js';
import { sleep } from '../harness/eventually.js';
import { Cluster, GROUP, PLURAL, VERSION, isReadyAtGeneration, type NexusRuntime } from '../harness/kube.js';
import { OperatorProcess, parseMetricSamples } from '../harness/operator-process.js';

const SEQUENTIAL_RUNS = Number(process.env.BENCH_SEQUENTIAL ?? 15);
const FLEET_SIZE = Number(process.env.BENCH_FLEET ?? 500);
const IDLE_WINDOW_MS = Number(process.env.BENCH_IDLE_SECONDS ?? 120) * 1000;
// Shorter than the operator's default (300 s) so that the idle window spans resyncs of the fleet.
const RESYNC_SECONDS = process.env.BENCH_RESYNC_SECONDS ?? '60';
/** The operator's MAX_CONCURRENT_RECONCILES; unset keeps the operator's default. */
const RECONCILES = process.env.BENCH_RECONCILES;
const CREATE_CONCURRENCY = 25;
/**
 * Every runtime has a managed store, without a persistent volume: 500 claims would need 500
 * volumes on the simulated node, and binding them measures the volume controller, not the operator.
 */
const RUNTIME_SPEC = { store: { mode: 'Managed', managed: { persistence: { enabled: false } } } };
const FLEET_TIMEOUT_MS = 15 * 60_000;

/**
 * Ready times of every runtime in a namespace, observed through a watch. The API server closes
 * watches whose reader falls behind (likely on a loaded machine during the fleet run): the watch
 * is then opened again without a resourceVersion, which replays every object, so a runtime that
 * became Ready meanwhile is seen at the reconnection (its time is an upper bound). Reconnections
 * are counted and reported.
 */
class ReadyWatcher {
  readonly readyAt = new Map<string, number>();
  reconnections = 0;
  private waiters: { name: string; resolve: (at: number) => void }[] = [];
  private abort: AbortController | undefined;
  private stopped = false;

  constructor(
    private readonly cluster: Cluster,
    private readonly namespace: string,
  ) {}

  async start(): Promise<void> {
    const watch = new Watch(this.cluster.config);
    this.abort = await watch.watch(
      `/apis/${GROUP}/${VERSION}/namespaces/${this.namespace}/${PLURAL}`,
      {},
      (_phase: string, runtime: NexusRuntime) => this.observe(runtime),
      () => {
        if (this.stopped) return;
        this.reconnections += 1;
        setTimeout(() => void this.start().catch(() => undefined), 500);
      },
    );
  }

  private observe(runtime: NexusRuntime): void {
    const name = runtime.metadata.name;
    if (this.readyAt.has(name) || !isReadyAtGeneration(runtime)) return;
    const at = performance.now();
    this.readyAt.set(name, at);
    this.waiters.filter((w) => w.name === name).forEach((w) => w.resolve(at));
    this.waiters = this.waiters.filter((w) => w.name !== name);
  }

  whenReady(name: string): Promise<number> {
    const at = this.readyAt.get(name);
    if (at !== undefined) return Promise.resolve(at);
    return new Promise((resolve) => this.waiters.push({ name, resolve }));
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
  }
}

/**
 * The operator's memory from its own /metrics, sampled every 2 s: the V8 heap (allocated and in
 * use) and memory outside it (buffers), beside the RSS, so that a peak can be told apart as live
 * objects, garbage not yet collected, or off-heap buffers.
 */
class MemorySampler {
  readonly peak = { heapTotal: 0, heapUsed: 0, external: 0, rss: 0 };
  last = { heapTotal: 0, heapUsed: 0, external: 0, rss: 0 };
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly operator: OperatorProcess) {}

  start(): void {
    this.timer = setInterval(() => void this.sample().catch(() => undefined), 2000);
  }

  async sample(): Promise<void> {
    const text = await this.operator.metrics();
    const value = (name: string) => parseMetricSamples(text, name).reduce((sum, s) => sum + s.value, 0);
    this.last = {
      heapTotal: value('nodejs_heap_size_total_bytes'),
      heapUsed: value('nodejs_heap_size_used_bytes'),
      external: value('nodejs_external_memory_bytes'),
      rss: value('process_resident_memory_bytes'),
    };
    for (const key of Object.keys(this.peak) as (keyof typeof this.peak)[]) {
      this.peak[key] = Math.max(this.peak[key], this.last[key]);
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

const mb = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MB`;

function peakRssMB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return Math.round(kb / 1024);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000}s`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function describeRequests(counts: RequestCounts): string {
  return Object.entries(counts.byVerbAndResource)
    .sort((a, b) => b[1] - a[1])
    .map(([key, n]) => `${key}: ${n}`)
    .join(', ');
}

describe('operator benchmark', () => {
  const state = harnessState();
  const cluster = new Cluster(state);
  let operator: OperatorProcess;
  let memory: MemorySampler;
  const rows: [string, string][] = [];

  beforeAll(async () => {
    // The operator's own defaults, except the lease identity and the resync period.
    operator = await OperatorProcess.start(state, {
      identity: 'bench',
      env: {
        LOG_LEVEL: 'info',
        LEASE_DURATION_SECONDS: '15',
        RENEW_DEADLINE_SECONDS: '10',
        RETRY_PERIOD_SECONDS: '2',
        RESYNC_PERIOD_SECONDS: RESYNC_SECONDS,
        ...(RECONCILES ? { MAX_CONCURRENT_RECONCILES: RECONCILES } : {}),
        // For profiling, e.g. --heapsnapshot-signal=SIGUSR2.
        ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}),
      },
    });
    memory = new MemorySampler(operator);
    memory.start();
  });

  afterAll(async () => {
    memory?.stop();
    await operator?.stop();
    process.stdout.write(
      [
        `## Operator (Kubernetes ${state.kubernetesVersion} + KWOK, ${FLEET_SIZE} runtimes with managed ` +
          `stores, persistence off, MAX_CONCURRENT_RECONCILES ${RECONCILES ?? 'default'})`,
        '',
        '| measure | value |',
        '|---|---|',
        ...rows.map(([k, v]) => `| ${k} | ${v} |`),
      ].join('\n') + '\n',
    );
  });

  test('apply → Ready latency of one NexusRuntime', async () => {
    const namespace = 'bench-latency';
    await cluster.createNamespace(namespace);
    const watcher = new ReadyWatcher(cluster, namespace);
    await watcher.start();
    const latencies: number[] = [];
    process.stderr.write(`apply → Ready, ${SEQUENTIAL_RUNS} runtimes one after the other\n`);
    for (let i = 0; i < SEQUENTIAL_RUNS; i++) {
      const name = `latency-${i}`;
      const started = performance.now();
      await cluster.createRuntime(namespace, name, RUNTIME_SPEC);
      const readyAt = await withTimeout(watcher.whenReady(name), 120_000, `${name} Ready`);
      latencies.push(readyAt - started);
    }
    watcher.stop();
    rows.push([
      `apply → Ready, one runtime (median of ${SEQUENTIAL_RUNS})`,
      `${(median(latencies) / 1000).toFixed(2)} s`,
    ]);
    rows.push(['apply → Ready, one runtime (max)', `${(Math.max(...latencies) / 1000).toFixed(2)} s`]);
  });

  test(`${FLEET_SIZE} NexusRuntimes applied at once`, async () => {
    const namespace = 'bench-fleet';
    await cluster.createNamespace(namespace);
    const watcher = new ReadyWatcher(cluster, namespace);
    await watcher.start();
    const names = Array.from({ length: FLEET_SIZE }, (_, i) => `fleet-${String(i).padStart(3, '0')}`);
    const from = new Date();
    const started = performance.now();
    const queue = [...names];
    await Promise.all(
      Array.from({ length: CREATE_CONCURRENCY }, async () => {
        for (let name = queue.shift(); name; name = queue.shift())
          await cluster.createRuntime(namespace, name, RUNTIME_SPEC);
      }),
    );
    const appliedIn = performance.now() - started;
    process.stderr.write(`${FLEET_SIZE} created in ${(appliedIn / 1000).toFixed(1)}s; waiting for Ready\n`);
    const progress = setInterval(() => {
      process.stderr.write(
        `${watcher.readyAt.size}/${FLEET_SIZE} Ready after ${((performance.now() - started) / 1000).toFixed(0)}s\n`,
      );
    }, 10_000);
    const readyTimes = await withTimeout(
      Promise.all(names.map((name) => watcher.whenReady(name))),
      FLEET_TIMEOUT_MS,
      `${FLEET_SIZE} runtimes Ready`,
    ).finally(() => clearInterval(progress));
    const allReady = Math.max(...readyTimes) - started;
    rows.push([
      'watch reconnections during the fleet run (Ready times after one are upper bounds)',
      String(watcher.reconnections),
    ]);
    watcher.stop();
    // Let the last status writes land in the audit log before counting.
    await sleep(2000);
    const requests = operatorRequests(state, from);
    rows.push([
      `${FLEET_SIZE} applied (${CREATE_CONCURRENCY} parallel creates) in`,
      `${(appliedIn / 1000).toFixed(1)} s`,
    ]);
    rows.push([`${FLEET_SIZE} applied → all Ready`, `${(allReady / 1000).toFixed(1)} s`]);
    rows.push([
      `${FLEET_SIZE} applied → 50% / 90% Ready`,
      `${(percentile(readyTimes, 50) / 1000 - started / 1000).toFixed(1)} s / ${(percentile(readyTimes, 90) / 1000 - started / 1000).toFixed(1)} s`,
    ]);
    rows.push(['operator peak RSS (VmHWM) after the fleet', `${peakRssMB(operator.pid)} MB`]);
    rows.push([
      'operator API requests, start of apply → all Ready (+2 s)',
      `${requests.total} (${requests.reads} reads, ${requests.writes} writes, ${requests.leaseWrites} lease renewals)`,
    ]);
    rows.push(['… per runtime', (requests.total / FLEET_SIZE).toFixed(1)]);
    process.stdout.write(`requests by verb and resource: ${describeRequests(requests)}\n`);
  });

  test('idle: API requests per minute with everything Ready', async () => {
    await sleep(10_000); // let in-flight rollouts' last status updates settle
    process.stderr.write(`idle: counting the operator's requests for ${IDLE_WINDOW_MS / 1000}s\n`);
    const from = new Date();
    await sleep(IDLE_WINDOW_MS);
    const requests = operatorRequests(state, from);
    const perMinute = (n: number) => ((n * 60_000) / IDLE_WINDOW_MS).toFixed(1);
    rows.push([
      `idle API requests per minute (${IDLE_WINDOW_MS / 1000} s window, resync every ${RESYNC_SECONDS} s)`,
      `${perMinute(requests.total)} (${perMinute(requests.reads)} reads, ${perMinute(requests.writes)} writes, ${perMinute(requests.leaseWrites)} lease renewals)`,
    ]);
    process.stdout.write(`idle requests by verb and resource: ${describeRequests(requests) || 'none'}\n`);
    rows.push(['operator peak RSS (VmHWM) at the end', `${peakRssMB(operator.pid)} MB`]);
    await memory.sample();
    memory.stop();
    const { peak, last } = memory;
    rows.push([
      'operator memory, peak of 2 s samples: V8 heap allocated / in use, outside the heap',
      `${mb(peak.heapTotal)} / ${mb(peak.heapUsed)}, ${mb(peak.external)}`,
    ]);
    rows.push([
      'operator memory when idle: RSS, V8 heap allocated / in use, outside the heap',
      `${mb(last.rss)}, ${mb(last.heapTotal)} / ${mb(last.heapUsed)}, ${mb(last.external)}`,
    ]);
  });
  // What the simulated cluster alone needs for the same fleet (controller manager, scheduler and
  // KWOK on the same 2 cores): the floor under the operator's figure above. Runs last, so that it
  // does not disturb the operator's measurements.
  test(`control-plane floor: ${FLEET_SIZE} bare Deployments, no operator`, async () => {
    const namespace = 'bench-floor';
    await cluster.createNamespace(namespace);
    const names = Array.from({ length: FLEET_SIZE }, (_, i) => `floor-${String(i).padStart(3, '0')}`);
    const started = performance.now();
    const queue = [...names];
    await Promise.all(
      Array.from({ length: CREATE_CONCURRENCY }, async () => {
        for (let name = queue.shift(); name; name = queue.shift()) {
          const labels = { app: name };
          await cluster.apps.createNamespacedDeployment({
            namespace,
            body: {
              metadata: { name, labels },
              spec: {
                replicas: 1,
                selector: { matchLabels: labels },
                template: {
                  metadata: { labels },
                  spec: {
                    containers: [
                      {
                        name: 'kernel',
                        image: 'localhost/nexus-kernel:bench',
                        resources: { requests: { cpu: '250m', memory: '256Mi' } },
                      },
                    ],
                  },
                },
              },
            },
          });
        }
      }),
    );
    let available = 0;
    while (available < FLEET_SIZE) {
      if (performance.now() - started > FLEET_TIMEOUT_MS) throw new Error(`only ${available} available`);
      await sleep(1000);
      const list = await cluster.apps.listNamespacedDeployment({ namespace });
      available = list.items.filter((d) => (d.status?.availableReplicas ?? 0) >= 1).length;
    }
    rows.push([
      `control-plane floor: ${FLEET_SIZE} bare Deployments created → all available (no operator)`,
      `${((performance.now() - started) / 1000).toFixed(1)} s`,
    ]);
  });
});
