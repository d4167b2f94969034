// The memory budget as a CEL rule of the CRD, refusing an over-budget spec at admission with the
// same sentence, and the same numbers, as the status' Degraded message (policies/budget.ts,
// budgetRefusal): what the spec requires, the limit, the largest pool and sandbox that fit, the
// smallest limit that would hold it.
//
// Why the message is one `format` call. A messageExpression must stay within the API server's
// estimated cost limit per expression, like the rule. `'…' + string(n)` cannot: string(int) has no
// size bound in CEL's estimator, so every concatenation after it is estimated as a traversal of an
// unbounded string. `'…%d…'.format([n, …])` costs the length of its constant format string; its
// arguments are integers, or the results of smaller format calls chosen by a condition. Nothing
// concatenates a string of unknown size, so the estimate stays small. (strings extension v2:
// Kubernetes 1.29 and later.)
//
// The arithmetic is in MiB the way the operator counts: the limit rounded down, the caches up.
import { KERNEL_OVERHEAD_MB, LIMITS } from './defaults.js';

const MIB = 1048576;
const ceilMiB = (bytes: string) => `((${bytes} + ${MIB - 1}) / ${MIB})`;

const limitMiB = `(quantity(self.resources.limits.memory).asInteger() / ${MIB})`;
const cacheMiB = `(self.cache.medium == 'Memory' ? ${ceilMiB('quantity(self.cache.sizeLimit).asInteger()')} : 0)`;
const panelCacheMiB = ceilMiB('quantity(self.runtime.panelCacheSize).asInteger()');
/** Instances the budget must hold: maxInstances when given, otherwise at least minInstances (or one). */
const instances = `(has(self.runtime.maxInstances) ? self.runtime.maxInstances : (self.runtime.minInstances > 1 ? self.runtime.minInstances : 1))`;
const instanceMiB = 'self.runtime.memoryLimitMB';
const fixedMiB = `(${KERNEL_OVERHEAD_MB} + ${cacheMiB} + ${panelCacheMiB})`;
const requiredMiB = `(${instances} * ${instanceMiB} + ${fixedMiB})`;
const roomMiB = `(${limitMiB} > ${fixedMiB} ? ${limitMiB} - ${fixedMiB} : 0)`;
const fit = `(${roomMiB} / ${instanceMiB} < ${LIMITS.maxInstances.max} ? ${roomMiB} / ${instanceMiB} : ${LIMITS.maxInstances.max})`;
const largestInstanceMiB = `(${roomMiB} / ${instances})`;
const what = `(has(self.runtime.maxInstances) ? 'runtime.maxInstances' : 'runtime.minInstances (or 1)')`;

/** Formats an optional clause: `text` (with its own %d) when `when` holds, else nothing. */
const clause = (when: string, text: string, args: string[]) =>
  `(${when} ? '${text}'.format([${args.join(', ')}]) : '')`;

const messageExpression =
  `'memory budget exceeded: %s %d × runtime.memoryLimitMB %dMi + ${KERNEL_OVERHEAD_MB}Mi kernel overhead%s%s = %dMi, ` +
  `above resources.limits.memory %dMi. Fits: %s%sresources.limits.memory %dMi or more%s'.format([` +
  [
    what,
    instances,
    instanceMiB,
    clause(`${cacheMiB} > 0`, ' + %dMi in-memory cache', [cacheMiB]),
    clause(`${panelCacheMiB} > 0`, ' + %dMi panel cache', [panelCacheMiB]),
    requiredMiB,
    limitMiB,
    clause(`${fit} > 0`, 'runtime.maxInstances %d or less, or ', [fit]),
    clause(`${largestInstanceMiB} > 0`, 'runtime.memoryLimitMB %d or less with %s %d, or ', [
      largestInstanceMiB,
      what,
      instances,
    ]),
    requiredMiB,
    `(${cacheMiB} > 0 ? ', or the cache on Disk (cache.medium)' : '')`,
  ].join(', ') +
  '])';

/** The budget rule of the spec's x-kubernetes-validations. */
export const BUDGET_RULE = {
  // Every leaf below resources, runtime and cache has a default, so once the parents exist (which
  // defaulting guarantees for stored objects) so do the fields; the guard only spares the check
  // of the bare `{}` default itself.
  rule: `!has(self.resources) || !has(self.runtime) || !has(self.cache) || ${requiredMiB} <= ${limitMiB}`,
  messageExpression,
  // Shown when the messageExpression cannot be evaluated.
  message:
    `memory budget exceeded: runtime.maxInstances (or minInstances when maxInstances is unset) × ` +
    `runtime.memoryLimitMB + ${KERNEL_OVERHEAD_MB}Mi kernel overhead + cache.sizeLimit (when cache.medium is Memory) ` +
    `+ runtime.panelCacheSize must fit resources.limits.memory`,
  reason: 'FieldValueInvalid',
} as const;
