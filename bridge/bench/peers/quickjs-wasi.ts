import { readFile } from 'node:fs/promises';

import { QuickJS } from 'quickjs-wasi';

import { asScript } from '../handlers.js';
import type { BenchHandler } from '../handlers.js';
import type { Execute, Parked, Peer } from './peer.js';

const MEMORY_LIMIT = 32 * 1024 * 1024;

/**
 * quickjs-wasi: quickjs-ng as a WASI reactor; the module is compiled once and every execution
 * instantiates it afresh (its own linear memory), as a fresh sandbox requires.
 */
export async function createQuickJsWasiPeer(): Promise<Peer> {
  const bytes = await readFile(new URL(import.meta.resolve('quickjs-wasi/quickjs.wasm')));
  const wasm = await WebAssembly.compile(bytes);
  const fresh = (): Promise<QuickJS> => QuickJS.create({ wasm, memoryLimit: MEMORY_LIMIT });

  return {
    name: 'quickjs-wasi',
    isolation: 'new WebAssembly instance + QuickJS VM per execution (module compiled once)',
    freshPerExecution: true,
    prepare(handler: BenchHandler): Promise<Execute> {
      const script = asScript(handler);
      return Promise.resolve(async () => {
        const vm = await fresh();
        try {
          const handle = vm.evalCode(script);
          const value = vm.dump(handle);
          handle.dispose();
          return value;
        } finally {
          vm.dispose();
        }
      });
    },
    async park(count: number): Promise<Parked> {
      const held: { vm: QuickJS; settle: () => void }[] = [];
      for (let i = 0; i < count; i++) {
        const vm = await fresh();
        const deferred = vm.newPromise();
        const ext = vm.newFunction('ext', () => deferred.handle);
        vm.setProp(vm.global, 'ext', ext);
        ext.dispose();
        const pending = vm.evalCode('(async () => { const v = await ext(); return v + 1; })()');
        held.push({
          vm,
          settle: () => {
            deferred.resolve(vm.newNumber(1));
            vm.executePendingJobs();
            pending.dispose();
          },
        });
      }
      return {
        release() {
          for (const { vm, settle } of held) {
            settle();
            vm.dispose();
          }
          return Promise.resolve();
        },
      };
    },
    close: () => Promise.resolve(),
  };
}
