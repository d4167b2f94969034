// Runs one peer's benchmarks in this process and prints the figures as JSON on stdout; progress
// goes to stderr. main.ts starts one such process per peer and scenario, so no peer's heap,
// JIT state or pools affect another's figures.
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';

import { fib, json, trivial } from './handlers.js';
import type { BenchHandler } from './handlers.js';
import type { ParkedFigures, SpeedFigures, Unavailable, VersusFigures } from './figures.js';
import { measureLatency, measureParked, measureThroughput } from './measure.js';
import { PEER_NAMES, isOptionalPeer, isPeerName, loadPeer } from './peers/peer.js';
import type { Execute, Peer, PeerName } from './peers/peer.js';
import { quantile, scaled, summariseLatency } from './stats.js';
import type { LatencySummary } from './stats.js';

const scale = Number(process.env.BENCH_SCALE ?? '1');
const throughputMs = scaled(5000, scale, 1000);
const threads = availableParallelism();

function log(peer: string, message: string): void {
  process.stderr.write(`  [${peer}] ${message}\n`);
}

async function verified(handler: BenchHandler, peer: Peer): Promise<Execute> {
  const execute = await peer.prepare(handler);
  const value = await execute();
  if (JSON.stringify(value) !== JSON.stringify(handler.expected)) {
    throw new Error(
      `${peer.name} computed ${JSON.stringify(value)} for ${handler.name}, expected ${JSON.stringify(handler.expected)}`,
    );
  }
  return execute;
}

/**
 * Throughput of a single-threaded peer: one worker thread per core, each running executions
 * back to back, so peers get the same two cores the bridge's own threads use.
 */
async function threadedThroughput(name: PeerName): Promise<number> {
  const counts = await Promise.all(
    Array.from(
      { length: threads },
      () =>
        new Promise<number>((resolve, reject) => {
          const worker = new Worker(new URL('./throughput-worker.js', import.meta.url), {
            workerData: { peer: name, durationMs: throughputMs },
          });
          worker.once('message', (perSecond: number) => resolve(perSecond));
          worker.once('error', reject);
        }),
    ),
  );
  return counts.reduce((sum, n) => sum + n, 0);
}

/**
 * The bridge's executions/s at the number of calls in flight that serves it best, as the peers
 * get their best arrangement (a thread per core): a few levels share the same time budget.
 */
async function bestConcurrency(
  execute: Execute,
): Promise<{ executionsPerSecond: number; concurrency: number }> {
  let best = { executionsPerSecond: 0, concurrency: 0 };
  for (const concurrency of [4 * threads, 16 * threads, 64 * threads]) {
    const executionsPerSecond = await measureThroughput(execute, concurrency, throughputMs / 3);
    if (executionsPerSecond > best.executionsPerSecond) best = { executionsPerSecond, concurrency };
  }
  return best;
}

async function speed(name: PeerName): Promise<SpeedFigures> {
  const peer = await loadPeer(name);
  const progress = (message: string): void => log(peer.name, message);
  try {
    // The bridge is fast enough for many more samples within the same wall time.
    const iterations = scaled(name === 'bridge' ? 20_000 : 2_000, scale, 100);
    const trivialRun = await verified(trivial, peer);
    const warmup = Math.ceil(iterations / 10);
    const trivialLatency = await measureLatency(trivialRun, {
      warmup,
      iterations,
      label: 'trivial latency',
      progress,
    });
    // The engine's own figures for the same executions (the warm-up ones are dropped).
    const engine = peer.engineDurationsUs?.slice(-iterations);

    progress(`throughput for ${throughputMs} ms`);
    const { executionsPerSecond, concurrency } =
      name === 'bridge'
        ? await bestConcurrency(trivialRun)
        : { executionsPerSecond: await threadedThroughput(name), concurrency: 1 };

    const compute: Record<string, LatencySummary> = {};
    for (const handler of [fib, json]) {
      const run = await verified(handler, peer);
      compute[handler.name] = await measureLatency(run, {
        warmup: 3,
        iterations: scaled(30, scale, 5),
        label: handler.name,
        progress,
      });
    }
    return {
      peer: peer.name,
      isolation: peer.isolation,
      trivial: trivialLatency,
      ...(engine?.length ? { trivialEngine: summariseLatency(engine) } : {}),
      throughput: { executionsPerSecond, concurrency, threads: name === 'bridge' ? 1 : threads },
      compute,
    };
  } finally {
    await peer.close();
  }
}

async function parked(name: PeerName): Promise<ParkedFigures> {
  const count = 1000;
  const peer = await loadPeer(name, count);
  try {
    return { peer: peer.name, parked: await measureParked(peer, count, (m) => log(peer.name, m)) };
  } finally {
    await peer.close();
  }
}

interface Timed {
  wallUs: number;
  cpuUs: number;
}

async function timed(execute: Execute): Promise<Timed> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await execute();
  const wallUs = (performance.now() - start) * 1000;
  const used = process.cpuUsage(cpu);
  return { wallUs, cpuUs: used.user + used.system };
}

const medianOf = (samples: Timed[], key: keyof Timed): number =>
  quantile(
    samples.map((s) => s[key]),
    0.5,
  );

/** The compute-bound comparison with the bridge, one execution of each in turn. */
async function versusBridge(name: PeerName): Promise<VersusFigures> {
  const bridge = await loadPeer('bridge');
  const peer = await loadPeer(name);
  const rounds = scaled(40, scale, 5);
  const versus: VersusFigures['versus'] = {};
  try {
    for (const handler of [fib, json]) {
      const ours = await verified(handler, bridge);
      const theirs = await verified(handler, peer);
      const bridgeSamples: Timed[] = [];
      const peerSamples: Timed[] = [];
      for (let i = 0; i < rounds; i++) {
        bridgeSamples.push(await timed(ours));
        peerSamples.push(await timed(theirs));
      }
      versus[handler.name] = {
        bridgeUs: medianOf(bridgeSamples, 'wallUs'),
        peerUs: medianOf(peerSamples, 'wallUs'),
        bridgeCpuUs: medianOf(bridgeSamples, 'cpuUs'),
        peerCpuUs: medianOf(peerSamples, 'cpuUs'),
      };
      log(peer.name, `${handler.name} alternating with the bridge: done`);
    }
    return { peer: peer.name, versus };
  } finally {
    await bridge.close();
    await peer.close();
  }
}

const SCENARIOS = ['speed', 'parked', 'versus-bridge'] as const;
type Scenario = (typeof SCENARIOS)[number];
const [name, scenario] = process.argv.slice(2);
if (!name || !isPeerName(name) || !(SCENARIOS as readonly string[]).includes(scenario ?? '')) {
  process.stderr.write(`usage: run-peer.js <${PEER_NAMES.join('|')}> <${SCENARIOS.join('|')}>\n`);
  process.exit(2);
}
const run: Record<Scenario, (peer: PeerName) => Promise<SpeedFigures | ParkedFigures | VersusFigures>> = {
  speed,
  parked,
  'versus-bridge': versusBridge,
};
let figures: SpeedFigures | ParkedFigures | VersusFigures | Unavailable;
try {
  figures = await run[scenario as Scenario](name);
} catch (error) {
  // An optional peer whose native addon is missing is reported, not fatal.
  if (
    !isOptionalPeer(name) ||
    !/Cannot find module|was compiled against|no-node-snapshot/i.test(String(error))
  )
    throw error;
  figures = { peer: name, unavailable: String(error).split('\n')[0]! };
}
process.stdout.write(`${JSON.stringify(figures)}\n`);
