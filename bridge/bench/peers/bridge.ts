import { WasmRuntime } from '@nexus/bridge';
import type { WasmContext, WasmResult } from '@nexus/bridge';

import type { BenchHandler } from '../handlers.js';
import type { Execute, Parked, Peer } from './peer.js';

function context(args: unknown, extra: Partial<WasmContext> = {}): WasmContext {
  return { panelId: 'bench', handlerName: 'bench', stateSnapshot: {}, args, capabilities: [], ...extra };
}

function valueOf(result: WasmResult): unknown {
  if (result.status !== 'success') {
    throw new Error(`bridge handler ended with ${result.status}: ${JSON.stringify(result.error)}`);
  }
  // The value crosses as JSON text: parse it, as a caller that needs the object would.
  return result.returnValueJson === undefined ? undefined : JSON.parse(result.returnValueJson);
}

/** This project's bridge: precompiled bytecode, every execution from the clean snapshot. */
export function createBridgePeer(maxInstances: number): Peer {
  const runtime = new WasmRuntime({ maxInstances });
  const engineDurationsUs: number[] = [];
  return {
    name: 'bridge',
    isolation: 'precompiled bytecode, clean snapshot per execution',
    freshPerExecution: true,
    async prepare(handler: BenchHandler): Promise<Execute> {
      const bytecode = await runtime.precompileHandler(handler.body);
      const ctx = context(handler.args);
      return async () => {
        const result = await runtime.executeCompiledHandler(bytecode, ctx);
        engineDurationsUs.push(result.metrics.durationUs);
        return valueOf(result);
      };
    },
    async park(count: number): Promise<Parked> {
      // Parked handlers hold their instance, so the pool must be sized for them.
      if (count > maxInstances)
        throw new RangeError(`cannot park ${count} handlers in a pool of ${maxInstances}`);
      const ctx = context({}, { capabilities: ['ext:kv'], extensionRegistry: { kv: ['get'] } });
      const bytecode = await runtime.precompileHandler("const v = await $ext.kv.get('k'); return v + 1;");
      const ids: string[] = [];
      for (let i = 0; i < count; i++) {
        const result = await runtime.executeCompiledHandler(bytecode, ctx);
        if (result.status !== 'suspended' || !result.suspension) {
          throw new Error(`expected a suspension, got ${result.status}: ${JSON.stringify(result.error)}`);
        }
        ids.push(result.suspension.suspensionId);
      }
      return {
        async release() {
          for (const id of ids) valueOf(await runtime.resumeHandler(id, { success: true, value: 1 }));
        },
      };
    },
    engineDurationsUs,
    close: () => runtime.shutdown(),
  };
}
