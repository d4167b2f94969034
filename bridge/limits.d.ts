// Generated with bridge/limits.js (see there): edit bridge/src/config.rs, not this file.
export interface OptionRange {
  readonly default: number;
  readonly min: number;
  readonly max: number;
}
export declare const runtimeOptions: {
  readonly maxInstances: OptionRange;
  readonly minInstances: OptionRange;
  readonly memoryLimitBytes: OptionRange;
  readonly timeoutMs: OptionRange;
  readonly executionDeadlineMs: OptionRange;
  readonly maxHostCalls: OptionRange;
  readonly maxStateMutations: OptionRange;
  readonly maxEvents: OptionRange;
  readonly maxSuspensions: OptionRange;
  readonly maxValueBytes: OptionRange;
  readonly maxEventBytes: OptionRange;
  readonly cacheMaxBytes: OptionRange;
};
export declare const nameLimits: {
  readonly stateKey: number;
  readonly eventName: number;
  readonly viewCommandType: number;
  readonly componentId: number;
  readonly extensionName: number;
  readonly extensionMethodName: number;
};
export declare const eventFramingBytes: number;
export declare const logLimits: {
  readonly maxLogLines: number;
  readonly maxLogBytes: number;
  readonly maxLogMessageBytes: number;
};
export declare const errorCodes: readonly ('TIMEOUT' | 'MEMORY_LIMIT' | 'STACK_OVERFLOW' | 'PERMISSION_DENIED' | 'RESOURCE_LIMIT' | 'EXECUTION_ERROR' | 'COMPILATION_ERROR' | 'INVALID_HANDLER' | 'INTERNAL_ERROR')[];
