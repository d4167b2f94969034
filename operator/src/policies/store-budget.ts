// How many panels a store holds (MAX_PANELS), and whether the managed store's memory holds them:
//
//   store limit  >= maxmemory + max(64Mi, maxmemory / 4)      (buffers, AOF rewrite copy-on-write)
//   maxmemory    >= maxPanels × maxStateBytes                 (every panel at its largest state)
//
// With maxPanels unset a managed store derives the most panels the second line allows. Pure
// arithmetic on the resolved spec, like the kernel's budget.
import { Reason } from '../api/conditions.js';
import { DEFAULT_MAX_PANELS, LIMITS, type ResolvedSpec } from '../api/defaults.js';
import { binaryBytes } from '../api/openapi.js';
import { ceilMiB, floorMiB, parseQuantity } from '../api/quantity.js';
import type { StoreBudgetStatus } from '../api/types.js';
import type { PolicyResult } from './result.js';

const MIB = 2 ** 20;
/** The most panels a derived bound reaches: the kernel's default for a shared store. */
export const DERIVED_MAX_PANELS = DEFAULT_MAX_PANELS.External;

export type StoreBudgetOutcome =
  | { ok: true; budget: StoreBudgetStatus; maxPanels: number; warning?: PolicyResult }
  | { ok: false; budget?: StoreBudgetStatus; failure: PolicyResult };

/** What Redis needs beyond maxmemory. */
export function storeHeadroomBytes(maxmemoryBytes: number): number {
  return Math.max(64 * MIB, Math.floor(maxmemoryBytes / 4));
}

export function evaluateStoreBudget(spec: ResolvedSpec): StoreBudgetOutcome {
  const { store } = spec;
  const invalid = (message: string): StoreBudgetOutcome => ({
    ok: false,
    failure: { reason: Reason.InvalidSpec, message },
  });
  const maxStateBytes = parseQuantity(spec.runtime.maxStateSize);
  if (
    maxStateBytes === undefined ||
    maxStateBytes < LIMITS.maxStateBytes.min ||
    maxStateBytes > LIMITS.maxStateBytes.max
  ) {
    return invalid(
      `runtime.maxStateSize ${JSON.stringify(spec.runtime.maxStateSize)} must be a quantity from ${binaryBytes(LIMITS.maxStateBytes.min)} to ${binaryBytes(LIMITS.maxStateBytes.max)}`,
    );
  }
  const stateBytes = Math.floor(maxStateBytes);
  const given = store.maxPanels;
  if (store.mode !== 'Managed') {
    const maxPanels = given ?? DEFAULT_MAX_PANELS[store.mode];
    return {
      ok: true,
      maxPanels,
      budget: { maxPanels, maxPanelsDerived: given === undefined, maxStateBytes: stateBytes },
    };
  }

  const maxmemory = parseQuantity(store.managed.maxmemory);
  const limit = parseQuantity(store.managed.resources.limits.memory);
  if (maxmemory === undefined || maxmemory <= 0) {
    return invalid(
      `store.managed.maxmemory ${JSON.stringify(store.managed.maxmemory)} is not a memory quantity`,
    );
  }
  if (limit === undefined || limit <= 0) {
    return invalid(
      `store.managed.resources.limits.memory ${JSON.stringify(store.managed.resources.limits.memory)} is not a memory quantity`,
    );
  }
  const derived = Math.min(DERIVED_MAX_PANELS, Math.floor(maxmemory / stateBytes));
  const maxPanels = given ?? derived;
  const worstCase = maxPanels * stateBytes;
  const required = maxmemory + storeHeadroomBytes(maxmemory);
  const maxmemoryMB = floorMiB(maxmemory);
  const limitMB = floorMiB(limit);
  const requiredMB = ceilMiB(required);
  const budget: StoreBudgetStatus = {
    maxPanels,
    maxPanelsDerived: given === undefined,
    maxStateBytes: stateBytes,
    maxmemoryMB,
    limitMB,
    requiredMB,
    worstCaseMB: ceilMiB(worstCase),
    fits: worstCase <= maxmemory,
  };
  if (limit < required) {
    return {
      ok: false,
      budget,
      failure: {
        reason: Reason.StoreMemoryBudgetExceeded,
        message:
          `store.managed.maxmemory ${maxmemoryMB}Mi + ${requiredMB - maxmemoryMB}Mi for ` +
          `buffers and AOF rewrites = ${requiredMB}Mi does not fit store.managed.resources.limits.memory ` +
          `${limitMB}Mi: the store would be OOM-killed. Raise the limit or lower maxmemory`,
      },
    };
  }
  if (maxPanels < 1) {
    return {
      ok: false,
      budget,
      failure: {
        reason: Reason.StoreMemoryBudgetExceeded,
        message: `runtime.maxStateSize ${spec.runtime.maxStateSize} is larger than store.managed.maxmemory ${store.managed.maxmemory}: not one panel at its largest state fits`,
      },
    };
  }
  const outcome: StoreBudgetOutcome = { ok: true, budget, maxPanels };
  if (!budget.fits) {
    outcome.warning = {
      reason: Reason.StorePanelsExceedMemory,
      message:
        `store.maxPanels ${maxPanels} × runtime.maxStateSize ${spec.runtime.maxStateSize} = ${budget.worstCaseMB}Mi ` +
        `does not fit store.managed.maxmemory ${maxmemoryMB}Mi (at most ${derived} such panels fit): ` +
        `once the store is full its writes fail (it never evicts panels). ` +
        `Raise maxmemory, lower runtime.maxStateSize, or leave store.maxPanels unset`,
    };
  }
  return outcome;
}
