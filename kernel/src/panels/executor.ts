// The execution loop of a handler (SPEC 4, suspend/resume). Each result the sandbox returns is a
// segment: its mutations are applied to the panel in one synchronous step and broadcast at once
// (PATCH, EVENT), then a suspension is announced (PROGRESS), its extension call performed in Node,
// and the handler resumed with the value or the error, until it succeeds or fails.

import type { ExtensionHost } from '../extensions/host.js';
import { ServerMessageType } from '../messages.js';
import {
  type EmittedEvent,
  type HandlerError,
  type Sandbox,
  type SandboxResult,
  type StateMutation,
  SuspensionLostError,
  type ViewCommand,
} from '../sandbox/types.js';
import type { HandlerSpec, Panel } from './panel.js';

export type HandlerKind = 'tool' | 'mount' | 'unmount';

export interface ExecutionRequest {
  readonly panel: Panel;
  readonly handler: HandlerSpec;
  readonly kind: HandlerKind;
  readonly args: unknown;
  /** The WebSocket requestId that asked for this run, echoed in PROGRESS messages. */
  readonly requestId?: string;
}

export interface ExecutionOutcome {
  status: 'success' | 'error';
  returnValue?: unknown;
  stateMutations: StateMutation[];
  events: EmittedEvent[];
  viewCommands: ViewCommand[];
  error?: HandlerError;
  /** The panel's state version after the last segment of this execution was applied. */
  version: number;
  metrics: {
    durationUs: number;
    wallTimeMs: number;
    memoryPeakBytes: number;
    hostCalls: number;
    suspensions: number;
    cacheHit: boolean;
    compilationTimeUs: number;
  };
}

export type ExecutionObserver = (
  kind: HandlerKind,
  handler: string,
  status: 'success' | 'error',
  seconds: number,
) => void;

export class Executor {
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    private readonly sandbox: Pick<Sandbox, 'execute' | 'resume'>,
    private readonly extensions: Pick<ExtensionHost, 'invoke'>,
    private readonly observe: ExecutionObserver = () => {},
  ) {}

  /** Executions started and not yet finished. */
  get inFlight(): number {
    return this.running.size;
  }

  run(request: ExecutionRequest): Promise<ExecutionOutcome> {
    const execution = this.loop(request);
    this.running.add(execution);
    const forget = (): void => {
      this.running.delete(execution);
    };
    execution.then(forget, forget);
    return execution;
  }

  /** Resolves true once no execution is running, or false when `timeoutMs` passes first. */
  async idle(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.running.size > 0) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, remaining);
      });
      await Promise.race([Promise.allSettled([...this.running]), timeout]);
      clearTimeout(timer);
    }
    return true;
  }

  private async loop(request: ExecutionRequest): Promise<ExecutionOutcome> {
    const { panel, handler } = request;
    const started = performance.now();
    const outcome: ExecutionOutcome = {
      status: 'success',
      stateMutations: [],
      events: [],
      viewCommands: [],
      version: panel.version,
      metrics: {
        durationUs: 0,
        wallTimeMs: 0,
        memoryPeakBytes: 0,
        hostCalls: 0,
        suspensions: 0,
        cacheHit: false,
        compilationTimeUs: 0,
      },
    };
    let result: SandboxResult = await this.sandbox.execute(
      handler.bytecode,
      {
        panelId: panel.id,
        handlerName: handler.name,
        stateSnapshot: panel.state,
        args: request.args ?? {},
        capabilities: handler.capabilities,
        scope: { panelId: panel.id, handler: handler.name, kind: request.kind },
        extensionRegistry: panel.extensionRegistry,
      },
      handler.timeoutMs,
    );
    outcome.metrics.cacheHit = result.metrics.cacheHit;
    outcome.metrics.compilationTimeUs = result.metrics.compilationTimeUs;

    for (;;) {
      if (!this.applySegment(request, result, outcome)) {
        // The state limit refused this segment. A parked handler is not resumed: the sandbox
        // expires it after its timeout.
        outcome.status = 'error';
        outcome.error = {
          code: 'RESOURCE_LIMIT',
          message: `the panel's state would grow beyond MAX_STATE_BYTES (${panel.maxStateBytes} bytes); these mutations were not applied`,
        };
        break;
      }
      if (result.status !== 'suspended') {
        outcome.status = result.status;
        if (result.status === 'success' && result.returnValue !== undefined)
          outcome.returnValue = result.returnValue;
        if (result.error) outcome.error = result.error;
        break;
      }
      const suspension = result.suspension;
      if (suspension === undefined) {
        outcome.status = 'error';
        outcome.error = {
          code: 'INTERNAL_ERROR',
          message: 'the sandbox reported a suspension without its details',
        };
        break;
      }
      outcome.metrics.suspensions += 1;
      panel.channel.publish({
        type: ServerMessageType.PROGRESS,
        panelId: panel.id,
        handler: handler.name,
        ...(request.requestId === undefined ? {} : { requestId: request.requestId }),
        suspension: {
          extensionName: suspension.extensionName,
          method: suspension.method,
          args: suspension.args,
        },
      });
      const resumeWith = await this.extensions.invoke(
        panel.extensions,
        suspension.extensionName,
        suspension.method,
        suspension.args,
      );
      try {
        result = await this.sandbox.resume(suspension.suspensionId, resumeWith);
      } catch (error) {
        if (!(error instanceof SuspensionLostError)) throw error;
        outcome.status = 'error';
        outcome.error = {
          code: 'TIMEOUT',
          message: `the handler expired while waiting for ${suspension.extensionName}.${suspension.method} (${error.message})`,
        };
        break;
      }
    }
    outcome.metrics.wallTimeMs = performance.now() - started;
    this.observe(request.kind, handler.name, outcome.status, outcome.metrics.wallTimeMs / 1000);
    return outcome;
  }

  /** Applies and broadcasts one segment; false when the state limit refused its mutations. */
  private applySegment(request: ExecutionRequest, result: SandboxResult, outcome: ExecutionOutcome): boolean {
    const { panel } = request;
    outcome.metrics.durationUs += result.metrics.durationUs;
    outcome.metrics.hostCalls += result.metrics.hostCalls;
    outcome.metrics.memoryPeakBytes = Math.max(
      outcome.metrics.memoryPeakBytes,
      result.metrics.memoryPeakBytes,
    );
    if (result.stateMutations.length > 0) {
      const version = panel.apply(result.stateMutations);
      if (version === undefined) return false;
      outcome.version = version;
      outcome.stateMutations.push(...result.stateMutations);
      panel.channel.publish({
        type: ServerMessageType.PATCH,
        panelId: panel.id,
        version: outcome.version,
        mutations: result.stateMutations,
      });
    } else {
      outcome.version = panel.version;
    }
    for (const event of result.events) {
      panel.channel.publish({
        type: ServerMessageType.EVENT,
        panelId: panel.id,
        name: event.name,
        payload: event.payload ?? null,
      });
    }
    outcome.events.push(...result.events);
    outcome.viewCommands.push(...result.viewCommands);
    return true;
  }
}
