// Turns the figures of every peer into the Markdown published in docs/benchmarks.md.
import { formatNumber, markdownTable } from './stats.js';
import type { ParkedFigures, SpeedFigures, VersusFigures } from './figures.js';

export interface Targets {
  trivialMedianUs: number;
  /** The trivial median at most this many times the engine's own time for it. */
  engineRatio: number;
  trivialP99Us: number;
  throughputRatio: number;
  bytesPerParked: number;
}

export const TARGETS: Targets = {
  trivialMedianUs: 20,
  engineRatio: 2,
  trivialP99Us: 100,
  throughputRatio: 6,
  bytesPerParked: 1024 * 1024,
};

const KiB = 1024;

function speedRow(f: SpeedFigures, parked: ParkedFigures | undefined): string[] {
  const perParked = parked ? formatNumber(parked.parked.bytesPerParked / KiB) : '–';
  return [
    f.peer,
    formatNumber(f.trivial.medianUs),
    formatNumber(f.trivial.p99Us),
    `${formatNumber(f.throughput.executionsPerSecond)} (${f.throughput.threads > 1 ? `${f.throughput.threads} threads` : `${f.throughput.concurrency} in flight`})`,
    ...Object.values(f.compute).map((c) => formatNumber(c.medianUs / 1000)),
    perParked,
  ];
}

/** Peers that are sandboxes: node:vm is a reference point, not an isolation boundary. */
const isSandboxPeer = (f: SpeedFigures): boolean => f.peer !== 'bridge' && f.peer !== 'node:vm';

export function renderReport(
  speed: SpeedFigures[],
  parked: ParkedFigures[],
  versus: VersusFigures[] = [],
  cores = 2,
): string {
  const bridge = speed.find((f) => f.peer === 'bridge');
  const computeNames = Object.keys(speed[0]?.compute ?? {});
  const figures = markdownTable(
    [
      'sandbox',
      'trivial median µs',
      'trivial p99 µs',
      'executions/s',
      ...computeNames.map((n) => `${n} median ms`),
      'RSS per parked handler KiB (1,000 parked)',
    ],
    speed.map((f) =>
      speedRow(
        f,
        parked.find((p) => p.peer === f.peer),
      ),
    ),
  );
  const cost = markdownTable(
    ['sandbox', 'user CPU µs', 'system CPU µs', 'minor page faults'],
    speed.map((f) => [
      f.peer,
      formatNumber(f.trivial.cost.userUs),
      formatNumber(f.trivial.cost.systemUs),
      formatNumber(f.trivial.cost.minorFaults),
    ]),
  );
  const isolation = speed
    .map((f) => {
      const engine = f.trivialEngine
        ? ` (trivial: ${formatNumber(f.trivialEngine.medianUs)} µs median inside the engine by its own metrics, the rest is the call's set-up and result on Node's side)`
        : '';
      return `- **${f.peer}**: ${f.isolation}${engine}`;
    })
    .join('\n');
  const costNote = `Per trivial execution, the whole process (all threads), averaged over the latency run:\n\n${cost}`;
  if (!bridge) return `${figures}\n\n${isolation}\n\n${costNote}\n`;

  const sandboxes = speed.filter(isSandboxPeer);
  const fastest = sandboxes.reduce<SpeedFigures | undefined>(
    (best, f) => (!best || f.throughput.executionsPerSecond > best.throughput.executionsPerSecond ? f : best),
    undefined,
  );
  const bridgeParked = parked.find((p) => p.peer === 'bridge')?.parked.bytesPerParked;
  const verdict = (ok: boolean | undefined): string =>
    ok === undefined ? 'not measured' : ok ? 'met' : 'missed';

  const rows: string[][] = [
    [
      `trivial precompiled median ≤ ${TARGETS.trivialMedianUs} µs`,
      `${formatNumber(bridge.trivial.medianUs)} µs`,
      verdict(bridge.trivial.medianUs <= TARGETS.trivialMedianUs),
    ],
  ];
  if (bridge.trivialEngine) {
    const ratio = bridge.trivial.medianUs / bridge.trivialEngine.medianUs;
    rows.push([
      `trivial median ≤ ${TARGETS.engineRatio}× the engine's own time`,
      `${formatNumber(ratio)}× (${formatNumber(bridge.trivialEngine.medianUs)} µs in the engine)`,
      verdict(ratio <= TARGETS.engineRatio),
    ]);
  }
  rows.push([
    `trivial p99 ≤ ${TARGETS.trivialP99Us} µs`,
    `${formatNumber(bridge.trivial.p99Us)} µs`,
    verdict(bridge.trivial.p99Us <= TARGETS.trivialP99Us),
  ]);
  // The distance to the physical limit: what the CPU one execution costs allows on every core.
  const cpuUs = bridge.trivial.cost.userUs + bridge.trivial.cost.systemUs;
  if (cpuUs > 0) {
    const limit = (cores * 1e6) / cpuUs;
    rows.push([
      `executions/s against what ${cores} cores allow at the latency run’s CPU per execution`,
      `${formatNumber(bridge.throughput.executionsPerSecond)} of ${formatNumber(limit)} ` +
        `(${formatNumber((100 * bridge.throughput.executionsPerSecond) / limit)}%; ${formatNumber(cpuUs)} µs CPU each)`,
      'reference',
    ]);
  }
  if (fastest) {
    const ratio = bridge.throughput.executionsPerSecond / fastest.throughput.executionsPerSecond;
    rows.push([
      `executions/s ≥ ${TARGETS.throughputRatio}× the fastest fresh-sandbox peer (${fastest.peer})`,
      `${formatNumber(ratio)}×`,
      verdict(ratio >= TARGETS.throughputRatio),
    ]);
  }
  for (const against of versus) {
    // Only quickjs-emscripten is a target; the others explain it (same engine, other host).
    const isTarget = against.peer === 'quickjs-emscripten';
    for (const [name, f] of Object.entries(against.versus)) {
      rows.push([
        `${name} ${isTarget ? 'at least as fast as' : 'compared with'} ${against.peer} ` +
          '(run alternately; CPU time, wall time in brackets)',
        `${formatNumber(f.bridgeCpuUs / 1000)} ms vs ${formatNumber(f.peerCpuUs / 1000)} ms ` +
          `(${formatNumber(f.bridgeUs / 1000)} ms vs ${formatNumber(f.peerUs / 1000)} ms)`,
        isTarget ? verdict(f.bridgeCpuUs <= f.peerCpuUs) : 'reference',
      ]);
    }
  }
  rows.push([
    'RSS per parked handler ≤ 1 MiB',
    bridgeParked === undefined ? '–' : `${formatNumber(bridgeParked / KiB)} KiB`,
    verdict(bridgeParked === undefined ? undefined : bridgeParked <= TARGETS.bytesPerParked),
  ]);
  return `${figures}\n\n${isolation}\n\n${costNote}\n\n${markdownTable(['target', 'measured', 'result'], rows)}\n`;
}
