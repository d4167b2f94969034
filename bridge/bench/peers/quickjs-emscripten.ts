import { getQuickJS, shouldInterruptAfterDeadline } from 'quickjs-emscripten';
import type { QuickJSContext, QuickJSRuntime } from 'quickjs-emscripten';

import { asScript } from '../handlers.js';
import type { BenchHandler } from '../handlers.js';
import type { Execute, Parked, Peer } from './peer.js';

const MEMORY_LIMIT = 32 * 1024 * 1024;
const TIMEOUT_MS = 5000;

/**
 * quickjs-emscripten: one shared WebAssembly module, a new QuickJS runtime and context per
 * execution, with the same memory cap and deadline the bridge enforces.
 */
export async function createQuickJsEmscriptenPeer(): Promise<Peer> {
  const quickjs = await getQuickJS();
  const freshRuntime = (): QuickJSRuntime =>
    quickjs.newRuntime({
      memoryLimitBytes: MEMORY_LIMIT,
      interruptHandler: shouldInterruptAfterDeadline(Date.now() + TIMEOUT_MS),
    });

  return {
    name: 'quickjs-emscripten',
    isolation: 'new QuickJS runtime + context per execution (source evaluated each time)',
    freshPerExecution: true,
    prepare(handler: BenchHandler): Promise<Execute> {
      const script = asScript(handler);
      return Promise.resolve(() => {
        const runtime = freshRuntime();
        const vm = runtime.newContext();
        try {
          const handle = vm.unwrapResult(vm.evalCode(script));
          const value: unknown = vm.dump(handle);
          handle.dispose();
          return Promise.resolve(value);
        } finally {
          vm.dispose();
          runtime.dispose();
        }
      });
    },
    park(count: number): Promise<Parked> {
      const held: { runtime: QuickJSRuntime; vm: QuickJSContext; settle: () => void }[] = [];
      for (let i = 0; i < count; i++) {
        const runtime = freshRuntime();
        const vm = runtime.newContext();
        const deferred = vm.newPromise();
        const ext = vm.newFunction('ext', () => deferred.handle);
        vm.setProp(vm.global, 'ext', ext);
        ext.dispose();
        const pending = vm.unwrapResult(
          vm.evalCode('(async () => { const v = await ext(); return v + 1; })()'),
        );
        held.push({
          runtime,
          vm,
          settle: () => {
            const one = vm.newNumber(1);
            deferred.resolve(one);
            one.dispose();
            runtime.executePendingJobs();
            pending.dispose();
            deferred.dispose();
          },
        });
      }
      return Promise.resolve({
        release() {
          for (const { runtime, vm, settle } of held) {
            settle();
            vm.dispose();
            runtime.dispose();
          }
          return Promise.resolve();
        },
      });
    },
    close: () => Promise.resolve(),
  };
}
