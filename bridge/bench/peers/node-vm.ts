import { Script, createContext } from 'node:vm';

import type { BenchHandler } from '../handlers.js';
import type { Execute, Parked, Peer } from './peer.js';

/**
 * Node's vm module with a new context per execution. Not a security boundary: it shares the
 * process's V8 heap and can be escaped. It is here as a reference point only.
 */
export function createNodeVmPeer(): Promise<Peer> {
  return Promise.resolve({
    name: 'node:vm',
    isolation: 'new V8 context per execution, precompiled Script (reference only: not a sandbox)',
    freshPerExecution: true,
    prepare(handler: BenchHandler): Promise<Execute> {
      const script = new Script(`(function ($args) {\n${handler.body}\n})(JSON.parse(argsJson))`);
      const argsJson = JSON.stringify(handler.args);
      return Promise.resolve(() => {
        const sandbox = createContext({ argsJson });
        // Results cross back as JSON, like every other peer's.
        return Promise.resolve(
          JSON.parse(JSON.stringify(script.runInContext(sandbox, { timeout: 5000 }))) as unknown,
        );
      });
    },
    park(count: number): Promise<Parked> {
      const resolvers: ((value: number) => void)[] = [];
      const pending: Promise<unknown>[] = [];
      const script = new Script('(async () => { const v = await ext(); return v + 1; })()');
      for (let i = 0; i < count; i++) {
        const sandbox = createContext({
          ext: () => new Promise<number>((resolve) => resolvers.push(resolve)),
        });
        pending.push(script.runInContext(sandbox) as Promise<unknown>);
      }
      return Promise.resolve({
        async release() {
          for (const resolve of resolvers) resolve(1);
          await Promise.all(pending);
        },
      });
    },
    close: () => Promise.resolve(),
  });
}
