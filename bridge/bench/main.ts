// `make bench-bridge`: every peer's benchmarks, one child process per peer and scenario, then
// the Markdown table for docs/benchmarks.md on stdout. Progress goes to stderr.
import { spawn } from 'node:child_process';
import { cpus } from 'node:os';

import { renderReport } from './report.js';
import type { ParkedFigures, SpeedFigures } from './run-peer.js';
import { PEER_NAMES } from './peers/peer.js';

function runPeer<T>(peer: string, scenario: 'speed' | 'parked'): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', new URL('./run-peer.js', import.meta.url).pathname, peer, scenario],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) return reject(new Error(`${peer} ${scenario} exited with ${code}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as T);
      } catch (error) {
        reject(new Error(`${peer} ${scenario} printed no figures: ${String(error)}`));
      }
    });
  });
}

const started = Date.now();
const scale = process.env.BENCH_SCALE ?? '1';
process.stderr.write(`==> bridge benchmarks (BENCH_SCALE=${scale}; peers: ${PEER_NAMES.join(', ')})\n`);

const speed: SpeedFigures[] = [];
const parked: ParkedFigures[] = [];
for (const peer of PEER_NAMES) {
  process.stderr.write(`--> ${peer}: latency, throughput, compute\n`);
  speed.push(await runPeer<SpeedFigures>(peer, 'speed'));
  process.stderr.write(`--> ${peer}: 1,000 parked handlers\n`);
  parked.push(await runPeer<ParkedFigures>(peer, 'parked'));
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
process.stdout.write(
  `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${cpus().length} × ${cpu}, ` +
    `Node ${process.version}, BENCH_SCALE=${scale}, in ${Math.round((Date.now() - started) / 1000)} s.\n\n`,
);
process.stdout.write(renderReport(speed, parked));
