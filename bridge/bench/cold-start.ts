// Cold start: the time from `new WasmRuntime()` to `ready()` in a fresh Node process, with an
// empty cache directory (the guest is pre-initialised and compiled) and with the directory that
// run populated (the compiled module is loaded). Three rounds of each; Markdown on stdout.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import { WasmRuntime } from '@nexus/bridge';

const ROUNDS = 3;

async function startOnce(cacheDir: string): Promise<void> {
  const started = performance.now();
  const runtime = new WasmRuntime({ maxInstances: 10, cacheDir });
  await runtime.ready();
  process.stdout.write(`${performance.now() - started}\n`);
  await runtime.shutdown();
}

function timedChild(cacheDir: string): number {
  const child = spawnSync(process.execPath, [new URL(import.meta.url).pathname, cacheDir], {
    encoding: 'utf8',
  });
  if (child.status !== 0) throw new Error(`cold start failed: ${child.stderr}`);
  return Number(child.stdout.trim());
}

const [child] = process.argv.slice(2);
if (child) {
  await startOnce(child);
} else {
  process.stderr.write(`==> cold start, ${ROUNDS} rounds\n`);
  const empty: number[] = [];
  const populated: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const dir = mkdtempSync(join(tmpdir(), 'nexus-cold-start-'));
    try {
      empty.push(timedChild(dir));
      populated.push(timedChild(dir));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const list = (ms: number[]): string => ms.map((m) => m.toFixed(1)).join(', ');
  process.stdout.write(
    `\nCold start (\`new WasmRuntime()\` to \`ready()\`, a fresh process each, maxInstances 10): ` +
      `empty cache directory ${list(empty)} ms; populated ${list(populated)} ms.\n`,
  );
}
