// The spec.runtime part of the NexusRuntime schema: the sandbox tuning delivered to the kernel.
import { DEFAULTS, LIMITS, SHUTDOWN_DRAIN_MS, TERMINATION_MARGIN_SECONDS } from './defaults.js';
import { boundedQuantity, cappedMemoryQuantity, integer, object, type JSONSchema } from './openapi.js';

const d = DEFAULTS;

export const runtimeSchema: JSONSchema = object(
  'Sandbox tuning, delivered to the kernel through its ConfigMap.',
  {
    memoryLimitMB: integer('Linear-memory cap of one sandbox instance, in MiB.', {
      minimum: LIMITS.memoryLimitMB.min,
      maximum: LIMITS.memoryLimitMB.max,
      default: d.runtime.memoryLimitMB,
    }),
    maxInstances: integer(
      'Sandbox pool size, which is also the most handlers running at once. When absent the operator derives the largest value the memory limit can hold.',
      { minimum: LIMITS.maxInstances.min, maximum: LIMITS.maxInstances.max },
    ),
    minInstances: integer('Sandbox instances kept warm.', {
      minimum: LIMITS.minInstances.min,
      maximum: LIMITS.minInstances.max,
      default: d.runtime.minInstances,
    }),
    timeoutMs: integer(
      "A handler's time budget in milliseconds of CPU time, across all its segments: time waiting for a core is not spent (executionDeadlineMs bounds the wall time).",
      {
        minimum: LIMITS.timeoutMs.min,
        maximum: LIMITS.timeoutMs.max,
        default: d.runtime.timeoutMs,
      },
    ),
    maxHostCalls: integer('Host calls one execution may make.', {
      minimum: LIMITS.maxHostCalls.min,
      maximum: LIMITS.maxHostCalls.max,
      default: d.runtime.maxHostCalls,
    }),
    maxStateMutations: integer('State mutations one execution may record.', {
      minimum: LIMITS.maxStateMutations.min,
      maximum: LIMITS.maxStateMutations.max,
      default: d.runtime.maxStateMutations,
    }),
    maxEvents: integer('Events one execution may emit.', {
      minimum: LIMITS.maxEvents.min,
      maximum: LIMITS.maxEvents.max,
      default: d.runtime.maxEvents,
    }),
    executionDeadlineMs: integer(
      `Wall-clock bound of one execution including its suspensions and waits for its panel (EXECUTION_DEADLINE_MS); at least timeoutMs. Unset: ${d.runtime.executionDeadlineMs}, or timeoutMs when longer. The kernels get SHUTDOWN_GRACE_MS = this + ${SHUTDOWN_DRAIN_MS} and the pods a termination grace ${TERMINATION_MARGIN_SECONDS}s above that.`,
      { minimum: LIMITS.executionDeadlineMs.min, maximum: LIMITS.executionDeadlineMs.max },
    ),
    maxStateSize: boundedQuantity(
      'Largest state of one panel, as JSON (MAX_STATE_BYTES).',
      d.runtime.maxStateSize,
      LIMITS.maxStateBytes,
    ),
    panelCacheSize: cappedMemoryQuantity(
      "Bound of the kernel's in-memory caches of shared panels (PANEL_CACHE_MAX_BYTES); part of the memory budget.",
      d.runtime.panelCacheSize,
      LIMITS.panelCacheBytes.max,
    ),
  },
  {
    default: {},
    'x-kubernetes-validations': [
      {
        rule: '!has(self.maxInstances) || !has(self.minInstances) || self.minInstances <= self.maxInstances',
        message: 'runtime.minInstances must not exceed runtime.maxInstances',
      },
      {
        rule: '!has(self.executionDeadlineMs) || !has(self.timeoutMs) || self.executionDeadlineMs >= self.timeoutMs',
        message: 'runtime.executionDeadlineMs must be at least runtime.timeoutMs',
      },
    ],
  },
);
