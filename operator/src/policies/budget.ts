// The memory budget: everything in a kernel pod shares the container's memory limit.
//
//   limit >= maxInstances × memoryLimitMB + overheadMB + (cache in memory ? cache.sizeLimit : 0)
//            + panelCacheSize (the kernel's bounded caches of shared panels)
//
// Pure arithmetic on the resolved spec; the reconciler turns the result into conditions and events.
import { Reason } from '../api/conditions.js';
import { LIMITS, type ResolvedSpec } from '../api/defaults.js';
import { ceilMiB, floorMiB, parseQuantity } from '../api/quantity.js';
import type { MemoryBudgetStatus } from '../api/types.js';
import type { PolicyResult } from './result.js';

export type BudgetOutcome =
  | { ok: true; budget: MemoryBudgetStatus; maxInstances: number; warning?: PolicyResult }
  | { ok: false; budget?: MemoryBudgetStatus; failure: PolicyResult };

export function evaluateBudget(spec: ResolvedSpec, overheadMB: number): BudgetOutcome {
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
  if (hpaScaleOutMB !== undefined) budget.hpaScaleOutMB = hpaScaleOutMB;

  const cacheTerm =
    (cacheMB > 0 ? ` + ${cacheMB}Mi in-memory cache` : '') +
    (panelCacheMB > 0 ? ` + ${panelCacheMB}Mi panel cache` : '');
  if (!fits) {
    const wanted = given ?? Math.max(1, minInstances);
    const wantedMB = wanted * instanceMB + fixedMB;
    const what = given !== undefined ? `runtime.maxInstances ${given}` : `runtime.minInstances ${wanted}`;
    return {
      ok: false,
      budget: { ...budget, maxInstances: wanted, requiredMB: wantedMB, headroomMB: limitMB - wantedMB },
      failure: {
        reason: Reason.MemoryBudgetExceeded,
        message:
          `${what} × ${instanceMB}Mi + ${overheadMB}Mi kernel overhead${cacheTerm} = ${wantedMB}Mi ` +
          `does not fit resources.limits.memory ${limitMB}Mi; at most ${Math.max(derived, 0)} instances fit. ` +
          `Raise the limit, lower runtime.memoryLimitMB or runtime.maxInstances` +
          (cacheMB > 0 ? ', or move the cache to Disk' : ''),
      },
    };
  }

  const outcome: BudgetOutcome = { ok: true, budget, maxInstances };
  if (hpaScaleOutMB !== undefined && overheadMB >= hpaScaleOutMB) {
    outcome.warning = {
      reason: Reason.ScaleOutBelowOverhead,
      message:
        `the HPA scales out at ${hpaScaleOutMB}Mi (${spec.autoscaling.targetMemoryUtilizationPercentage}% of ` +
        `the ${requestMB}Mi memory request) but an idle kernel already uses ${overheadMB}Mi: ` +
        `the fleet would sit at maxReplicas. Raise resources.requests.memory or the target percentage`,
    };
  }
  return outcome;
}
