// The memory budget: everything in a kernel pod shares the container's memory limit.
//
//   limit >= maxInstances × memoryLimitMB + overheadMB + (cache in memory ? cache.sizeLimit : 0)
//            + panelCacheSize (the kernel's bounded caches of shared panels)
//
// Pure arithmetic on the resolved spec; the reconciler turns the result into conditions and events.
import { Reason } from '../api/conditions.js';
import { LIMITS, type ResolvedSpec } from '../api/defaults.js';
import { binaryBytes } from '../api/openapi.js';
import { ceilMiB, floorMiB, parseQuantity } from '../api/quantity.js';
import type { MemoryBudgetStatus } from '../api/types.js';
import type { PolicyResult } from './result.js';

export type BudgetOutcome =
  | { ok: true; budget: MemoryBudgetStatus; maxInstances: number; warning?: PolicyResult }
  | { ok: false; budget?: MemoryBudgetStatus; failure: PolicyResult };

/** The two measured figures of an idle kernel (api/defaults.ts): what it holds, what the HPA sees. */
export interface KernelFootprint {
  /** Resident memory, which the memory limit must hold (KERNEL_OVERHEAD_MB). */
  overheadMB: number;
  /** Working set, which the HPA compares with its scale-out point (KERNEL_IDLE_WORKING_SET_MB). */
  idleWorkingSetMB: number;
}

export function evaluateBudget(spec: ResolvedSpec, footprint: KernelFootprint): BudgetOutcome {
  const { overheadMB, idleWorkingSetMB } = footprint;
  const limitBytes = parseQuantity(spec.resources.limits.memory);
  const requestBytes = parseQuantity(spec.resources.requests.memory);
  const cacheBytes = parseQuantity(spec.cache.sizeLimit);
  const panelCacheBytes = parseQuantity(spec.runtime.panelCacheSize);
  const invalid = (message: string): BudgetOutcome => ({
    ok: false,
    failure: { reason: Reason.InvalidSpec, message },
  });
  if (limitBytes === undefined || limitBytes <= 0) {
    return invalid(
      `resources.limits.memory ${JSON.stringify(spec.resources.limits.memory)} is not a memory quantity`,
    );
  }
  if (requestBytes === undefined || requestBytes <= 0) {
    return invalid(
      `resources.requests.memory ${JSON.stringify(spec.resources.requests.memory)} is not a memory quantity`,
    );
  }
  if (cacheBytes === undefined || cacheBytes < 0) {
    return invalid(`cache.sizeLimit ${JSON.stringify(spec.cache.sizeLimit)} is not a memory quantity`);
  }
  if (panelCacheBytes === undefined || panelCacheBytes < 0) {
    return invalid(
      `runtime.panelCacheSize ${JSON.stringify(spec.runtime.panelCacheSize)} is not a memory quantity`,
    );
  }
  // What the kernel accepts for the variables these feed (an object admitted by an older schema
  // would otherwise reach kernels that refuse to start).
  if (cacheBytes > LIMITS.cacheBytes.max) {
    return invalid(`cache.sizeLimit ${spec.cache.sizeLimit} is above ${binaryBytes(LIMITS.cacheBytes.max)}`);
  }
  if (panelCacheBytes > LIMITS.panelCacheBytes.max) {
    return invalid(
      `runtime.panelCacheSize ${spec.runtime.panelCacheSize} is above ${binaryBytes(LIMITS.panelCacheBytes.max)}`,
    );
  }
  if (requestBytes > limitBytes) {
    return invalid(
      `resources.requests.memory ${spec.resources.requests.memory} is above resources.limits.memory ${spec.resources.limits.memory}`,
    );
  }
  const { memoryLimitMB: instanceMB, minInstances } = spec.runtime;
  const given = spec.runtime.maxInstances;
  if (given !== undefined && minInstances > given) {
    return invalid(`runtime.minInstances ${minInstances} is above runtime.maxInstances ${given}`);
  }

  const limitMB = floorMiB(limitBytes);
  const requestMB = floorMiB(requestBytes);
  const cacheMB = spec.cache.medium === 'Memory' ? ceilMiB(cacheBytes) : 0;
  const panelCacheMB = ceilMiB(panelCacheBytes);
  const fixedMB = overheadMB + cacheMB + panelCacheMB;
  const derived = Math.min(LIMITS.maxInstances.max, Math.floor((limitMB - fixedMB) / instanceMB));
  const maxInstances = given ?? Math.max(derived, 0);
  const requiredMB = maxInstances * instanceMB + fixedMB;
  const hpaScaleOutMB = spec.autoscaling.enabled
    ? Math.floor((requestMB * spec.autoscaling.targetMemoryUtilizationPercentage) / 100)
    : undefined;
  const fits = given !== undefined ? requiredMB <= limitMB : derived >= Math.max(1, minInstances);

  const budget: MemoryBudgetStatus = {
    limitMB,
    requestMB,
    overheadMB,
    cacheMB,
    panelCacheMB,
    instanceMB,
    maxInstances,
    maxInstancesDerived: given === undefined,
    requiredMB,
    headroomMB: limitMB - requiredMB,
    fits,
  };
  if (hpaScaleOutMB !== undefined) {
    budget.hpaScaleOutMB = hpaScaleOutMB;
    budget.idleWorkingSetMB = idleWorkingSetMB;
  }

  if (!fits) {
    const wanted = given ?? Math.max(1, minInstances);
    const wantedMB = wanted * instanceMB + fixedMB;
    return {
      ok: false,
      budget: { ...budget, maxInstances: wanted, requiredMB: wantedMB, headroomMB: limitMB - wantedMB },
      failure: {
        reason: Reason.MemoryBudgetExceeded,
        message: budgetRefusal({
          instances: wanted,
          instancesGiven: given !== undefined,
          instanceMB,
          overheadMB,
          cacheMB,
          panelCacheMB,
          limitMB,
        }),
      },
    };
  }

  const outcome: BudgetOutcome = { ok: true, budget, maxInstances };
  // Like with like: the HPA measures the working set, so the idle working set is the figure that
  // would keep every pod above the scale-out point — not the resident overhead the limit must hold.
  if (hpaScaleOutMB !== undefined && idleWorkingSetMB >= hpaScaleOutMB) {
    const target = spec.autoscaling.targetMemoryUtilizationPercentage;
    // The smallest request whose scale-out point is above the idle working set.
    const neededRequestMB = Math.ceil(((idleWorkingSetMB + 1) * 100) / target);
    outcome.warning = {
      reason: Reason.ScaleOutBelowOverhead,
      message:
        `the HPA scales out at ${hpaScaleOutMB}Mi of working set (${target}% of the ${requestMB}Mi ` +
        `memory request) but an idle kernel's working set is already ~${idleWorkingSetMB}Mi: ` +
        `the fleet would sit at maxReplicas. Raise resources.requests.memory to at least ` +
        `${neededRequestMB}Mi, or the target percentage`,
    };
  }
  return outcome;
}

/** The figures of an over-budget spec, in MiB (the admission policy computes the same ones). */
export interface RefusalFigures {
  /** maxInstances when given (instancesGiven), else the instances that must fit: max(1, minInstances). */
  instances: number;
  instancesGiven: boolean;
  instanceMB: number;
  overheadMB: number;
  cacheMB: number;
  panelCacheMB: number;
  limitMB: number;
}

/**
 * The refusal of an over-budget spec, with its numbers: what the spec requires, the limit, the
 * largest pool (or the largest memoryLimitMB) that fits and the smallest limit that would hold the
 * spec. The status' Degraded message and the admission policy's messageExpression
 * (api/budget-policy.ts) write this same sentence; an integration test holds them together.
 */
export function budgetRefusal(f: RefusalFigures): string {
  const fixedMB = f.overheadMB + f.cacheMB + f.panelCacheMB;
  const requiredMB = f.instances * f.instanceMB + fixedMB;
  const what = f.instancesGiven ? 'runtime.maxInstances' : 'runtime.minInstances (or 1)';
  const room = Math.max(0, f.limitMB - fixedMB);
  const fit = Math.min(LIMITS.maxInstances.max, Math.floor(room / f.instanceMB));
  const largestInstanceMB = Math.floor(room / f.instances);
  const terms =
    `${what} ${f.instances} × runtime.memoryLimitMB ${f.instanceMB}Mi + ${f.overheadMB}Mi kernel overhead` +
    (f.cacheMB > 0 ? ` + ${f.cacheMB}Mi in-memory cache` : '') +
    (f.panelCacheMB > 0 ? ` + ${f.panelCacheMB}Mi panel cache` : '');
  const fits =
    (fit > 0 ? `runtime.maxInstances ${fit} or less, or ` : '') +
    (largestInstanceMB > 0
      ? `runtime.memoryLimitMB ${largestInstanceMB} or less with ${what} ${f.instances}, or `
      : '') +
    `resources.limits.memory ${requiredMB}Mi or more`;
  return (
    `memory budget exceeded: ${terms} = ${requiredMB}Mi, above resources.limits.memory ${f.limitMB}Mi. ` +
    `Fits: ${fits}` +
    (f.cacheMB > 0 ? ', or the cache on Disk (cache.medium)' : '')
  );
}
