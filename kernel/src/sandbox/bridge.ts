// The one module that imports @nexus/bridge: it adapts WasmRuntime to the Sandbox interface and
// turns the bridge's API-misuse rejections into the kernel's own error types.

import { WasmRuntime } from '@nexus/bridge';
import type { KernelConfig } from '../config.js';
import {
  HandlerCompilationError,
  type ExecutionContext,
  type ResumeOutcome,
  type Sandbox,
  type SandboxResult,
  type SandboxStats,
  type SourceLocation,
  SuspensionLostError,
} from './types.js';

interface BridgeFailure {
  code?: string;
  message?: string;
  location?: SourceLocation;
}

function asFailure(error: unknown): BridgeFailure {
  return typeof error === 'object' && error !== null ? error : { message: String(error) };
}

/** Room on CACHE_DIR's volume for the compiled guest module (about 3.3 MiB today). */
const MODULE_ALLOWANCE_BYTES = 8 * 1024 * 1024;

export function createBridgeSandbox(config: KernelConfig): Sandbox {
  const runtime = new WasmRuntime({
    maxInstances: config.runtime.maxInstances,
    minInstances: config.runtime.minInstances,
    memoryLimitBytes: config.runtime.memoryLimitMb * 1024 * 1024,
    timeoutMs: config.runtime.timeoutMs,
    maxHostCalls: config.runtime.maxHostCalls,
    maxStateMutations: config.runtime.maxStateMutations,
    maxEvents: config.runtime.maxEvents,
    maxSuspensions: config.runtime.maxSuspensions,
    maxValueBytes: config.runtime.maxValueBytes,
    maxEventBytes: config.runtime.maxEventBytes,
    executionDeadlineMs: config.executionDeadlineMs,
    cacheDir: config.cacheDir,
    // The compiled module (a few MiB) shares the volume with the bytecode files.
    cacheMaxBytes: Math.max(0, config.cacheMaxBytes - MODULE_ALLOWANCE_BYTES),
    ...(config.cacheSeedDir === undefined ? {} : { cacheSeedDir: config.cacheSeedDir }),
  });

  return {
    async compile(source: string): Promise<Buffer> {
      try {
        return await runtime.precompileHandler(source);
      } catch (error) {
        const failure = asFailure(error);
        if (failure.code === 'COMPILATION_ERROR') {
          throw new HandlerCompilationError(failure.message ?? 'syntax error', failure.location);
        }
        throw error;
      }
    },

    execute(bytecode: Buffer, context: ExecutionContext, timeoutMs: number): Promise<SandboxResult> {
      return runtime.executeCompiledHandler(
        bytecode,
        {
          panelId: context.panelId,
          handlerName: context.handlerName,
          stateJson: context.stateJson,
          argsJson: context.argsJson,
          capabilities: [...context.capabilities],
          ...(context.scope === undefined ? {} : { scope: context.scope }),
          ...(context.extensionRegistry === undefined
            ? {}
            : {
                extensionRegistry: Object.fromEntries(
                  Object.entries(context.extensionRegistry).map(([name, methods]) => [name, [...methods]]),
                ),
              }),
        },
        timeoutMs,
      );
    },

    async resume(suspensionId: string, outcome: ResumeOutcome, stateJson?: Buffer): Promise<SandboxResult> {
      try {
        return await runtime.resumeHandler(suspensionId, outcome, stateJson);
      } catch (error) {
        const failure = asFailure(error);
        if (failure.code === 'SUSPENSION_NOT_FOUND') {
          throw new SuspensionLostError(failure.message ?? `suspension ${suspensionId} not found`);
        }
        throw error;
      }
    },

    cancel(suspensionId: string): void {
      runtime.cancelHandler(suspensionId);
    },

    stats(): SandboxStats {
      const stats = runtime.getStats();
      return {
        totalExecutions: stats.totalExecutions,
        activeInstances: stats.activeInstances,
        availableInstances: stats.availableInstances,
        suspendedInstances: stats.suspendedInstances,
        maxInstances: stats.maxInstances,
        cacheHits: stats.cacheHits,
        cacheMisses: stats.cacheMisses,
        memoryInUseBytes: stats.memoryInUseBytes,
      };
    },

    metricsText(): string {
      return runtime.getMetrics();
    },

    shutdown(): Promise<void> {
      return runtime.shutdown();
    },
  };
}
