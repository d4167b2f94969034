// `make bench-bridge`: every peer's benchmarks, one child process per peer and scenario, then
// the Markdown table for docs/benchmarks.md on stdout. Progress goes to stderr.
import { spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';

import { renderReport } from './report.js';
import type { ParkedFigures, SpeedFigures, Unavailable, VersusFigures } from './figures.js';
import { PEER_NAMES } from './peers/peer.js';

function runPeer<T>(peer: string, scenario: 'speed' | 'parked' | 'versus-bridge'): Promise<T | Unavailable> {
  // isolated-vm crashes at start-up on Node 20 unless V8's startup snapshot is off.
  const flags = peer === 'isolated-vm' ? ['--expose-gc', '--no-node-snapshot'] : ['--expose-gc'];
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...flags, new URL('./run-peer.js', import.meta.url).pathname, peer, scenario],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) return reject(new Error(`${peer} ${scenario} exited with ${code}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as T | Unavailable);
      } catch (error) {
        reject(new Error(`${peer} ${scenario} printed no figures: ${String(error)}`));
      }
    });
  });
}

const started = Date.now();
const loadAtStart = loadavg()
  .map((l) => l.toFixed(1))
  .join(' / ');
const scale = process.env.BENCH_SCALE ?? '1';
process.stderr.write(`==> bridge benchmarks (BENCH_SCALE=${scale}; peers: ${PEER_NAMES.join(', ')})\n`);

const speed: SpeedFigures[] = [];
const parked: ParkedFigures[] = [];
const skipped: Unavailable[] = [];
const isUnavailable = (figures: object): figures is Unavailable => 'unavailable' in figures;
for (const peer of PEER_NAMES) {
  process.stderr.write(`--> ${peer}: latency, throughput, compute\n`);
  const figures = await runPeer<SpeedFigures>(peer, 'speed');
  if (isUnavailable(figures)) {
    process.stderr.write(`    skipped: ${figures.unavailable}\n`);
    skipped.push(figures);
    continue;
  }
  speed.push(figures);
  process.stderr.write(`--> ${peer}: 1,000 parked handlers\n`);
  const parkedFigures = await runPeer<ParkedFigures>(peer, 'parked');
  if (!isUnavailable(parkedFigures)) parked.push(parkedFigures);
}

// The compute-bound target compares with quickjs-emscripten (Bellard's QuickJS); quickjs-wasi
// runs the same QuickJS-ng as the bridge, which separates the engine from the host. Each is
// measured alternately with the bridge in one process.
const versus: VersusFigures[] = [];
for (const peer of ['quickjs-emscripten', 'quickjs-wasi'] as const) {
  process.stderr.write(`--> ${peer} and the bridge alternately: compute-bound handlers\n`);
  const figures = await runPeer<VersusFigures>(peer, 'versus-bridge');
  if (isUnavailable(figures)) throw new Error(`${peer}: ${figures.unavailable}`);
  versus.push(figures);
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
// The load average says how much else competed for the cores while the figures were taken.
const load = loadavg()
  .map((l) => l.toFixed(1))
  .join(' / ');
process.stdout.write(
  `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${cpus().length} × ${cpu}, ` +
    `Node ${process.version}, BENCH_SCALE=${scale}, in ${Math.round((Date.now() - started) / 1000)} s; ` +
    `load average at the start ${loadAtStart}, at the end ${load}.\n\n`,
);
process.stdout.write(renderReport(speed, parked, versus, cpus().length));
for (const { peer, unavailable } of skipped)
  process.stdout.write(`\n${peer} was not measured: ${unavailable}\n`);
