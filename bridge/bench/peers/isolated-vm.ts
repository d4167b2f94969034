import { createRequire } from 'node:module';
import { join } from 'node:path';

import type { BenchHandler } from '../handlers.js';
import type { Execute, Parked, Peer } from './peer.js';

const MEMORY_LIMIT_MB = 32;
const TIMEOUT_MS = 5000;

// The part of isolated-vm's API used here. The package is not a workspace dependency (its install
// script compiles a native addon in every `npm ci`), so its own types are not available.
interface IvmContext {
  global: { setSync(key: string, value: unknown): void };
  evalSync(code: string): unknown;
  release(): void;
}
interface IvmScript {
  runSync(context: IvmContext, options?: { timeout?: number; copy?: boolean }): unknown;
}
interface IvmIsolate {
  compileScriptSync(code: string): IvmScript;
  createContextSync(): IvmContext;
  dispose(): void;
}
interface Ivm {
  Isolate: new (options: { memoryLimit: number }) => IvmIsolate;
}

/**
 * isolated-vm 5.0.4 (the last release for Node 20): one V8 isolate, a new context per execution,
 * the script compiled once per isolate. `make bench-bridge` installs and builds it under
 * BENCH_PEERS_DIR (npm 11 does not run its install script), and runs it with `--no-node-snapshot`.
 */
export function createIsolatedVmPeer(): Promise<Peer> {
  const peersDir = process.env.BENCH_PEERS_DIR;
  if (!peersDir) throw new Error('Cannot find module isolated-vm: BENCH_PEERS_DIR is not set');
  // A native CommonJS addon: loaded through require so a missing build fails here, not at import.
  const ivm = createRequire(join(peersDir, 'package.json'))('isolated-vm') as Ivm;
  const isolate = new ivm.Isolate({ memoryLimit: MEMORY_LIMIT_MB });
  return Promise.resolve({
    name: 'isolated-vm',
    isolation: 'new context per execution in one V8 isolate, script compiled once (isolated-vm 5.0.4)',
    freshPerExecution: true,
    prepare(handler: BenchHandler): Promise<Execute> {
      const script = isolate.compileScriptSync(
        `(function ($args) {\n${handler.body}\n})(JSON.parse(argsJson))`,
      );
      const argsJson = JSON.stringify(handler.args);
      return Promise.resolve(() => {
        const context = isolate.createContextSync();
        try {
          context.global.setSync('argsJson', argsJson);
          return Promise.resolve(script.runSync(context, { timeout: TIMEOUT_MS, copy: true }));
        } finally {
          context.release();
        }
      });
    },
    park(count: number): Promise<Parked> {
      // The handler awaits a promise whose resolver stays inside its context, as a suspended
      // handler awaits its host call; releasing settles each one and lets it finish. A thousand
      // contexts share one isolate's heap, so that isolate gets room for all of them.
      const parking = new ivm.Isolate({ memoryLimit: 1024 });
      const script = parking.compileScriptSync(
        `globalThis.result = (async () => {
           const v = await new Promise((resolve) => { globalThis.release = resolve; });
           return v + 1;
         })();`,
      );
      const contexts = Array.from({ length: count }, () => {
        const context = parking.createContextSync();
        script.runSync(context);
        return context;
      });
      return Promise.resolve({
        release() {
          for (const context of contexts) {
            context.evalSync('release(1)');
            context.release();
          }
          parking.dispose();
          return Promise.resolve();
        },
      });
    },
    close() {
      isolate.dispose();
      return Promise.resolve();
    },
  });
}
