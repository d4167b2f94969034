import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const bridgeDir = new URL('..', import.meta.url).pathname;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile());
}

// The cache exists for the next process start, so each run is a fresh Node process: within one
// process the compiled module is kept in memory and the disk is not consulted again.
const script = `
import { WasmRuntime } from '@nexus/bridge';
const runtime = new WasmRuntime({ maxInstances: 1, cacheDir: process.env.CACHE_DIR });
const result = await runtime.executeHandler('return $args.n * 8', {
  panelId: 'p', handlerName: 'h', stateSnapshot: {}, args: { n: 5 }, capabilities: [],
});
await runtime.shutdown();
process.stdout.write(JSON.stringify({ value: result.returnValueJson === undefined ? undefined : JSON.parse(result.returnValueJson), cacheHit: result.metrics.cacheHit, error: result.error }));
`;

async function processStart(cacheDir: string): Promise<{ value: unknown; cacheHit: boolean }> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    cwd: bridgeDir,
    env: { ...process.env, CACHE_DIR: cacheDir },
  });
  return JSON.parse(stdout) as { value: unknown; cacheHit: boolean };
}

describe('cacheDir across process starts', () => {
  let cacheDir: string;
  beforeAll(() => {
    cacheDir = mkdtempSync(join(tmpdir(), 'nexus-bridge-cache-'));
  });
  afterAll(() => {
    rmSync(cacheDir, { recursive: true, force: true });
  });

  const garbage = 'garbage, not a cache entry';

  it('writes the compiled module and the handler bytecode', async () => {
    expect(await processStart(cacheDir)).toEqual({ value: 40, cacheHit: false });
    const files = filesUnder(cacheDir);
    expect(files.some((file) => file.endsWith('.cwasm'))).toBe(true);
    expect(files.length).toBeGreaterThanOrEqual(2);
  });

  it('reuses both in the next process without rewriting them', async () => {
    const before = new Map(filesUnder(cacheDir).map((file) => [file, statSync(file).mtimeMs]));
    expect(await processStart(cacheDir)).toEqual({ value: 40, cacheHit: true });
    const after = new Map(filesUnder(cacheDir).map((file) => [file, statSync(file).mtimeMs]));
    expect(after).toEqual(before);
  });

  it('ignores corrupt cache files and rebuilds them', async () => {
    const files = filesUnder(cacheDir);
    for (const file of files) writeFileSync(file, garbage);

    expect(await processStart(cacheDir)).toEqual({ value: 40, cacheHit: false });
    const rebuilt = filesUnder(cacheDir).filter((file) => readFileSync(file, 'utf8') !== garbage);
    expect(rebuilt.length).toBeGreaterThanOrEqual(files.length);
  });

  it('ignores truncated cache files', async () => {
    for (const file of filesUnder(cacheDir)) writeFileSync(file, readFileSync(file).subarray(0, 16));
    expect((await processStart(cacheDir)).value).toBe(40);
  });
});
