// Compiles the guest module once, at image build time, into the directory given as the only
// argument: what the kernel image's CACHE_SEED_DIR points at. Placed in /app/kernel for the run, so
// that @nexus/bridge resolves to the bridge the image ships. The directory ends up read-only to
// everyone but root, and readable by the kernel's user.
import { chmodSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { WasmRuntime } from '@nexus/bridge';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node guest-seed.mjs <seed directory>');
  process.exit(2);
}
mkdirSync(dir, { recursive: true });
const started = Date.now();
const runtime = new WasmRuntime({ cacheDir: dir });
await runtime.ready();
await runtime.shutdown();

const files = [];
const walk = (path) => {
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) {
      chmodSync(child, 0o755);
      walk(child);
    } else {
      chmodSync(child, 0o644);
      files.push(`${child} (${statSync(child).size} bytes)`);
    }
  }
};
chmodSync(dir, 0o755);
walk(dir);
if (files.length === 0) {
  console.error(`the bridge wrote no compiled module into ${dir}`);
  process.exit(1);
}
console.log(`guest module compiled in ${Date.now() - started} ms: ${files.join(', ')}`);
