// Generated from bridge/src/config.rs and bridge/src/limits.rs by `cargo test -p nexus-bridge`
// (test limits_module_is_current): edit those, not this file.
/** Numeric RuntimeConfig options: default and accepted range. */
export const runtimeOptions = Object.freeze({
  maxInstances: Object.freeze({ default: 10, min: 1, max: 1000 }),
  minInstances: Object.freeze({ default: 1, min: 0, max: 1000 }),
  memoryLimitBytes: Object.freeze({ default: 33554432, min: 4194304, max: 1073741824 }),
  timeoutMs: Object.freeze({ default: 5000, min: 1, max: 600000 }),
  executionDeadlineMs: Object.freeze({ default: 30000, min: 1, max: 3600000 }),
  maxHostCalls: Object.freeze({ default: 10000, min: 1, max: 10000000 }),
  maxStateMutations: Object.freeze({ default: 1000, min: 0, max: 1000000 }),
  maxEvents: Object.freeze({ default: 100, min: 0, max: 1000000 }),
  maxSuspensions: Object.freeze({ default: 256, min: 1, max: 100000 }),
  maxValueBytes: Object.freeze({ default: 16777216, min: 1024, max: 268435456 }),
  maxEventBytes: Object.freeze({ default: 1048576, min: 0, max: 268435456 }),
  cacheMaxBytes: Object.freeze({ default: 67108864, min: 0, max: 1099511627776 }),
});
/** Bytes a handler may hand to the host besides values. */
export const nameLimits = Object.freeze({
  stateKey: 1024,
  eventName: 256,
  viewCommandType: 256,
  componentId: 1024,
  extensionName: 128,
  extensionMethodName: 128,
});
/** Bytes each event counts against maxEventBytes besides its name and payload. */
export const eventFramingBytes = 128;
/** The bounds on one execution's log lines (console.* and $log): lines beyond them are dropped. */
export const logLimits = Object.freeze({ maxLogLines: 100, maxLogBytes: 65536, maxLogMessageBytes: 4096 });
/** The error codes of handler results. */
export const errorCodes = Object.freeze(['TIMEOUT', 'MEMORY_LIMIT', 'STACK_OVERFLOW', 'PERMISSION_DENIED', 'RESOURCE_LIMIT', 'EXECUTION_ERROR', 'COMPILATION_ERROR', 'INVALID_HANDLER', 'INTERNAL_ERROR']);
