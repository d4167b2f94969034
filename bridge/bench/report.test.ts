import type { ParkedFigures, SpeedFigures, VersusFigures } from './figures.js';
import { renderReport } from './report.js';

const cost = { userUs: 10, systemUs: 5, minorFaults: 0 };
const latency = (medianUs: number) => ({ samples: 100, medianUs, p99Us: medianUs * 3 });

function speed(peer: string, trivialUs: number, perSecond: number, threads = 2): SpeedFigures {
  return {
    peer,
    isolation: `${peer} isolation`,
    trivial: { ...latency(trivialUs), cost },
    throughput: { executionsPerSecond: perSecond, concurrency: 1, threads },
    compute: { 'fib(24)': latency(10_000) },
  };
}

const parked = (peer: string, bytesPerParked: number): ParkedFigures => ({
  peer,
  parked: { count: 1000, rssBeforeBytes: 0, rssParkedBytes: bytesPerParked * 1000, bytesPerParked },
});

const versus = (peer: string, bridgeCpuUs: number, peerCpuUs: number): VersusFigures => ({
  peer,
  versus: { 'fib(24)': { bridgeUs: bridgeCpuUs, peerUs: peerCpuUs, bridgeCpuUs, peerCpuUs } },
});

/** The target table's rows as [target, result]. */
function verdicts(markdown: string): [string, string][] {
  const table = markdown.slice(markdown.indexOf('| target |'));
  return table
    .split('\n')
    .slice(2)
    .filter((line) => line.startsWith('|'))
    .map((line) => line.split('|').map((cell) => cell.trim()))
    .map((cells) => [cells[1]!, cells[3]!]);
}

describe('renderReport', () => {
  const peers = [
    { ...speed('bridge', 40, 20_000, 1), trivialEngine: latency(9) },
    speed('quickjs-emscripten', 150, 2_000),
    speed('quickjs-wasi', 1_000, 300),
    speed('node:vm', 400, 3_000),
  ];

  it('compares throughput with the fastest sandbox, not with node:vm', () => {
    const report = renderReport(peers, [parked('bridge', 300 * 1024)]);
    expect(verdicts(report)).toContainEqual([
      'executions/s ≥ 6× the fastest fresh-sandbox peer (quickjs-emscripten)',
      'met',
    ]);
    expect(report).toContain('10.0×');
  });

  it('reports each target as met or missed', () => {
    const slow = [{ ...peers[0]!, trivial: { ...latency(80), cost } }, ...peers.slice(1)];
    const report = renderReport(
      slow,
      [parked('bridge', 2 * 1024 * 1024)],
      [versus('quickjs-emscripten', 9_000, 7_000), versus('quickjs-wasi', 9_000, 10_000)],
    );
    expect(verdicts(report)).toEqual([
      ['trivial precompiled median ≤ 20 µs', 'missed'],
      ["trivial median ≤ 2× the engine's own time", 'missed'],
      ['trivial p99 ≤ 100 µs', 'missed'],
      ['executions/s against what 2 cores allow at the latency run’s CPU per execution', 'reference'],
      ['executions/s ≥ 6× the fastest fresh-sandbox peer (quickjs-emscripten)', 'met'],
      [
        'fib(24) at least as fast as quickjs-emscripten (run alternately; CPU time, wall time in brackets)',
        'missed',
      ],
      ['fib(24) compared with quickjs-wasi (run alternately; CPU time, wall time in brackets)', 'reference'],
      ['RSS per parked handler ≤ 1 MiB', 'missed'],
    ]);
  });

  it('says when parked memory was not measured', () => {
    expect(verdicts(renderReport(peers, []))).toContainEqual([
      'RSS per parked handler ≤ 1 MiB',
      'not measured',
    ]);
  });

  it('meets the latency targets when the call costs little more than the engine', () => {
    const fast = [{ ...peers[0]!, trivial: { ...latency(15), cost } }, ...peers.slice(1)];
    const report = verdicts(renderReport(fast, []));
    expect(report).toContainEqual(['trivial precompiled median ≤ 20 µs', 'met']);
    expect(report).toContainEqual(["trivial median ≤ 2× the engine's own time", 'met']);
    expect(report).toContainEqual(['trivial p99 ≤ 100 µs', 'met']);
    // 15 µs of CPU each: two cores allow 133,333/s, of which 20,000 were measured.
    expect(renderReport(fast, [])).toContain('20,000 of 133,333 (15.0%; 15.0 µs CPU each)');
  });

  it('shows the engine’s share of the bridge’s latency', () => {
    expect(renderReport(peers, [])).toContain('9.00 µs median inside the engine');
  });
});
