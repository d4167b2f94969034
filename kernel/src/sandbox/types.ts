// The small interface the kernel runs handlers through. Only sandbox/bridge.ts knows that the
// bridge implements it; everything else depends on these types (docs/bridge-api.md mirrors them).

export type ExecutionStatus = 'success' | 'error' | 'suspended';

export const SandboxErrorCodes = [
  'TIMEOUT',
  'MEMORY_LIMIT',
  'STACK_OVERFLOW',
  'PERMISSION_DENIED',
  'RESOURCE_LIMIT',
  'EXECUTION_ERROR',
  'COMPILATION_ERROR',
  'INVALID_HANDLER',
  'INTERNAL_ERROR',
] as const;
export type SandboxErrorCode = (typeof SandboxErrorCodes)[number];

// Every value a handler hands over arrives as the JSON text its JSON.stringify made, checked by
// the sandbox: the kernel splices that text into what it stores and sends, never parsing it.

export interface StateMutation {
  key: string;
  /** The value's JSON text; absent for a delete and for `$state.x = undefined`. */
  valueJson?: string;
  operation: 'set' | 'delete';
}
export interface EmittedEvent {
  name: string;
  /** The payload's JSON text; absent when the handler emitted none. */
  payloadJson?: string;
}
export interface ViewCommand {
  type: string;
  componentId?: string;
  /** The arguments' JSON text; absent when undefined. */
  argsJson?: string;
}
export interface Suspension {
  suspensionId: string;
  extensionName: string;
  method: string;
  /** The JSON text of the call's arguments (an array). */
  argsJson: string;
}
export interface SourceLocation {
  line: number;
  column: number;
}
export interface HandlerError {
  /** A SandboxErrorCode; typed as string so codes added by a newer bridge pass through. */
  code: string;
  message: string;
  stack?: string;
  location?: SourceLocation;
}
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
/**
 * A line of the handler's output (`console.*`, `$log`), or one the sandbox adds: a marker of lines
 * dropped beyond its per-execution bounds, and the message and location of the error that ended
 * the execution.
 */
export interface LogLine {
  level: LogLevel;
  message: string;
  /** Milliseconds since the execution started (wall time, suspensions included). */
  atMs: number;
  /** Where in the handler's source, for the line of an uncaught error. */
  location?: SourceLocation;
}
export interface ExecutionMetrics {
  /** Wall time the handler ran (without time parked or waiting for a bridge thread). */
  durationUs: number;
  /** CPU time the handler ran, what `timeoutMs` limits. */
  cpuTimeUs: number;
  memoryUsedBytes: number;
  memoryPeakBytes: number;
  hostCalls: number;
  cacheHit: boolean;
  compilationTimeUs: number;
}
export interface SandboxResult {
  status: ExecutionStatus;
  /** The return value's JSON text; absent when the handler returned undefined. */
  returnValueJson?: string;
  stateMutations: StateMutation[];
  events: EmittedEvent[];
  viewCommands: ViewCommand[];
  suspension?: Suspension;
  error?: HandlerError;
  metrics: ExecutionMetrics;
  /** Log lines since the previous result of the same execution (deltas, like the mutations). */
  logs: LogLine[];
}

export interface ExecutionContext {
  panelId: string;
  handlerName: string;
  /** The panel's state as the UTF-8 JSON text of an object (read on a sandbox thread). */
  stateJson: Buffer;
  /** The arguments as UTF-8 JSON text (checked on a sandbox thread). */
  argsJson: Buffer;
  capabilities: readonly string[];
  scope?: Record<string, unknown>;
  extensionRegistry?: Record<string, readonly string[]>;
}

/** How an extension call ended: its value as JSON text (undefined: no value), or an error message. */
export type ResumeOutcome = { success: true; valueJson?: string } | { success: false; error: string };

export interface SandboxStats {
  totalExecutions: number;
  activeInstances: number;
  availableInstances: number;
  suspendedInstances: number;
  maxInstances: number;
  cacheHits: number;
  cacheMisses: number;
  memoryInUseBytes: number;
}

export interface Sandbox {
  /** Compiles handler source to bytecode; throws HandlerCompilationError on a syntax error. */
  compile(source: string): Promise<Buffer>;
  execute(bytecode: Buffer, context: ExecutionContext, timeoutMs: number): Promise<SandboxResult>;
  /**
   * Continues a suspended handler, its `$state` reads now seeing `stateJson` (the panel's latest
   * state); throws SuspensionLostError when the sandbox no longer holds it.
   */
  resume(suspensionId: string, outcome: ResumeOutcome, stateJson?: Buffer): Promise<SandboxResult>;
  /** Drops a suspended handler that will not be resumed (its instance is free at once). */
  cancel(suspensionId: string): void;
  stats(): SandboxStats;
  /** Prometheus text exposition of the sandbox's own metrics. */
  metricsText(): string;
  shutdown(): Promise<void>;
}

export class HandlerCompilationError extends Error {
  readonly location: SourceLocation | undefined;

  constructor(message: string, location?: SourceLocation) {
    super(message);
    this.name = 'HandlerCompilationError';
    this.location = location;
  }
}

export class SuspensionLostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SuspensionLostError';
  }
}
