import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { WasmRuntime, context, successValue } from './support.js';

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile());
}

async function runOnce(cacheDir: string, code: string): Promise<{ value: unknown; cacheHit: boolean }> {
  const runtime = new WasmRuntime({ maxInstances: 1, cacheDir });
  try {
    const result = await runtime.executeHandler(code, context({ args: { n: 5 } }));
    return { value: successValue(result), cacheHit: result.metrics.cacheHit };
  } finally {
    await runtime.shutdown();
  }
}

describe('cacheDir', () => {
  let cacheDir: string;
  beforeAll(() => {
    cacheDir = mkdtempSync(join(tmpdir(), 'nexus-bridge-cache-'));
  });
  afterAll(() => {
    rmSync(cacheDir, { recursive: true, force: true });
  });

  const code = 'return $args.n * 8';

  it('writes the compiled module and the handler bytecode to the cache directory', async () => {
    expect(await runOnce(cacheDir, code)).toEqual({ value: 40, cacheHit: false });
    expect(filesUnder(cacheDir).length).toBeGreaterThanOrEqual(2);
  });

  it('serves handler bytecode from disk in a new runtime', async () => {
    expect(await runOnce(cacheDir, code)).toEqual({ value: 40, cacheHit: true });
  });

  it('ignores corrupt cache files and rebuilds them', async () => {
    const files = filesUnder(cacheDir);
    for (const file of files) writeFileSync(file, 'garbage, not a cache entry');

    const result = await runOnce(cacheDir, code);
    expect(result.value).toBe(40);
    const rebuilt = filesUnder(cacheDir).filter(
      (file) => readFileSync(file, 'utf8') !== 'garbage, not a cache entry',
    );
    expect(rebuilt.length).toBeGreaterThanOrEqual(1);
  });

  it('ignores truncated cache files', async () => {
    for (const file of filesUnder(cacheDir)) writeFileSync(file, readFileSync(file).subarray(0, 16));
    expect((await runOnce(cacheDir, code)).value).toBe(40);
  });
});
