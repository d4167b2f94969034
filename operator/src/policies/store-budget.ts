// How many panels a store holds (MAX_PANELS), and whether the managed store's memory holds them:
//
//   store limit  >= maxmemory + max(64Mi, maxmemory / 4)      (buffers, AOF rewrite copy-on-write)
//   maxmemory    >= maxPanels × perPanel                      (every panel at its bounds)
//
// where perPanel is all a panel may keep in the store (panelStoreBytes): its largest state, its
// PATCH history, its current definition and the revisions kept, its log ring, the allocator's
// rounding of all of them, and a fixed overhead.
// With maxPanels unset a managed store derives the most panels the second line allows. Pure
// arithmetic on the resolved spec, like the kernel's budget.
import { Reason } from '../api/conditions.js';
import { DEFAULT_MAX_PANELS, LIMITS, type ResolvedSpec } from '../api/defaults.js';
import { binaryBytes } from '../api/openapi.js';
import { ceilMiB, floorMiB, parseQuantity } from '../api/quantity.js';
import type { StoreBudgetStatus } from '../api/types.js';
import { SENTINEL_RESOURCES } from '../builders/store/replication.js';
import type { PolicyResult } from './result.js';

const KIB = 2 ** 10;
const MIB = 2 ** 20;
/** The most panels a derived bound reaches: the kernel's default for a shared store. */
export const DERIVED_MAX_PANELS = DEFAULT_MAX_PANELS.External;

/**
 * What a panel holds in the store besides the bytes the kernel bounds: its keys and their
 * entries in Redis' keyspace, the meta hash, its entry in the panel index and the lease. Measured,
 * a Counter panel takes 2.6 KiB of `used_memory` all included (docs/benchmarks.md); 16 KiB leaves
 * room for the allocator's rounding of each. The markers applied commits leave (about 200 bytes
 * each, for 30 s) grow with the store's commit rate, not with its panels: docs/tuning.md.
 */
export const PANEL_OVERHEAD_BYTES = 16 * KIB;

/**
 * What one entry of a panel's lists (a PATCH of the history, a kept definition, a log line)
 * costs beyond its bytes: its encoding and its share of the list's nodes, rounded up.
 */
export const STORE_ENTRY_OVERHEAD_BYTES = 64;

/**
 * Redis' allocator (jemalloc) hands out memory in size classes spaced a quarter of a power of two
 * apart, so a value takes up to a quarter more than its bytes, and `used_memory` counts what it
 * takes. Values at their bounds sit just above a class (a 1 MiB value plus its header): measured
 * on Redis 7.0, a 1,048,576-byte hash field takes 1,310,931 bytes. Every part is counted with
 * this factor.
 */
export const ALLOCATOR_ROUNDING = 1.25;

/**
 * What an idempotency record takes besides its return value (IDEMPOTENCY_RESULT_BYTES): its key
 * (up to 128 bytes) in a hash and in a sorted set of expiries, the request's digest, status,
 * version and revision, and both entries' encoding.
 */
export const REQUEST_RECORD_OVERHEAD_BYTES = 640;

/** The bounds, in bytes and counts, of what one panel keeps in the store. */
export interface PanelRetention {
  maxStateBytes: number;
  /** PATCHes kept (STORE_HISTORY) and their bytes (STORE_HISTORY_BYTES). */
  historyLength: number;
  historyBytes: number;
  /** Definitions kept, the current one included (PANEL_REVISIONS). */
  revisions: number;
  /** The largest definition: the largest request body (BODY_LIMIT). */
  definitionBytes: number;
  /** The log ring (PANEL_LOG_LINES, PANEL_LOG_BYTES). */
  logLines: number;
  logBytes: number;
  /** Idempotency records (IDEMPOTENCY_KEYS), each with a return value of at most resultBytes. */
  requestKeys: number;
  requestResultBytes: number;
}

/** What one panel may hold in the store at its bounds, part by part. */
export interface PanelStoreBytes {
  state: number;
  history: number;
  definitions: number;
  logs: number;
  /** Idempotency records of retried triggers. */
  requests: number;
  /** The allocator's rounding of the five parts above (ALLOCATOR_ROUNDING). */
  rounding: number;
  overhead: number;
  total: number;
}

/**
 * The store bytes of one panel at its bounds. The definitions are the current one (a key of its
 * own) and the `revisions` kept, the current one among them: counted twice, so that the bound
 * holds however the kernel lays them out. No history (0 PATCHes) and no log ring (0 lines) cost
 * nothing whatever their byte bounds say.
 */
export function panelStoreBytes(r: PanelRetention): PanelStoreBytes {
  const entries = (count: number, bytes: number) =>
    count > 0 ? bytes + count * STORE_ENTRY_OVERHEAD_BYTES : 0;
  const state = r.maxStateBytes;
  const history = entries(r.historyLength, r.historyBytes);
  const definitions = r.definitionBytes + entries(r.revisions, r.revisions * r.definitionBytes);
  const logs = entries(r.logLines, r.logBytes);
  const requests = r.requestKeys * (r.requestResultBytes + REQUEST_RECORD_OVERHEAD_BYTES);
  const bytes = state + history + definitions + logs + requests;
  const rounding = Math.ceil(bytes * (ALLOCATOR_ROUNDING - 1));
  const overhead = PANEL_OVERHEAD_BYTES;
  return {
    state,
    history,
    definitions,
    logs,
    requests,
    rounding,
    overhead,
    total: bytes + rounding + overhead,
  };
}

/** Bytes for a message: exact binary units where they divide, else MiB to one decimal, else KiB. */
export function readableBytes(bytes: number): string {
  const exact = binaryBytes(bytes);
  if (exact !== String(bytes) || bytes < KIB) return exact;
  if (bytes >= MIB) return `${(bytes / MIB).toFixed(1)}Mi`;
  return `${Math.ceil(bytes / KIB)}Ki`;
}

/** "16.6Mi (state 1Mi + history 1040Ki + … + allocator rounding 3.3Mi + overhead 16Ki)". */
export function describePanelBytes(parts: PanelStoreBytes): string {
  return (
    `${readableBytes(parts.total)} (state ${readableBytes(parts.state)} + history ${readableBytes(parts.history)} + ` +
    `definitions ${readableBytes(parts.definitions)} + log ring ${readableBytes(parts.logs)} + ` +
    `request records ${readableBytes(parts.requests)} + ` +
    `allocator rounding ${readableBytes(parts.rounding)} + overhead ${readableBytes(parts.overhead)})`
  );
}

export type StoreBudgetOutcome =
  | { ok: true; budget: StoreBudgetStatus; maxPanels: number; warning?: PolicyResult }
  | { ok: false; budget?: StoreBudgetStatus; failure: PolicyResult };

/** What Redis needs beyond maxmemory. */
export function storeHeadroomBytes(maxmemoryBytes: number): number {
  return Math.max(64 * MIB, Math.floor(maxmemoryBytes / 4));
}

/** A byte quantity of the spec within the kernel's bounds, or what is wrong with it. */
function bytesWithin(field: string, quantity: string, bounds: { min: number; max: number }): number | string {
  const bytes = parseQuantity(quantity);
  if (bytes === undefined || bytes < bounds.min || bytes > bounds.max) {
    return `${field} ${JSON.stringify(quantity)} must be a quantity from ${binaryBytes(bounds.min)} to ${binaryBytes(bounds.max)}`;
  }
  return Math.floor(bytes);
}

/** The retention bounds the spec gives the kernels (the ConfigMap writes the same values). */
export function panelRetention(spec: ResolvedSpec): PanelRetention | string {
  const { runtime, store, server } = spec;
  const maxStateBytes = bytesWithin('runtime.maxStateSize', runtime.maxStateSize, LIMITS.maxStateBytes);
  const historyBytes = bytesWithin('store.historySize', store.historySize, LIMITS.historyBytes);
  const definitionBytes = bytesWithin('server.maxBodySize', server.maxBodySize, LIMITS.bodyBytes);
  const logBytes = bytesWithin('store.logRing.size', store.logRing.size, LIMITS.logBytes);
  const resultBytes = bytesWithin(
    'store.idempotency.resultSize',
    store.idempotency.resultSize,
    LIMITS.idempotencyResultBytes,
  );
  for (const bytes of [maxStateBytes, historyBytes, definitionBytes, logBytes, resultBytes]) {
    if (typeof bytes === 'string') return bytes;
  }
  return {
    maxStateBytes: maxStateBytes as number,
    historyLength: store.history,
    historyBytes: historyBytes as number,
    revisions: store.revisions,
    definitionBytes: definitionBytes as number,
    logLines: store.logRing.lines,
    logBytes: logBytes as number,
    requestKeys: store.idempotency.keys,
    requestResultBytes: resultBytes as number,
  };
}

/**
 * What the managed store's pods may use together. Every pod holds a full copy of the panels, so a
 * replicated store multiplies pods, not maxmemory: each pod's Redis has the same maxmemory and
 * limit, and each has a Sentinel beside it (SENTINEL_RESOURCES).
 */
export function storeFootprint(
  spec: ResolvedSpec,
): Pick<StoreBudgetStatus, 'pods' | 'totalMemoryLimitMB' | 'totalCPULimitMillicores'> {
  const { replicas, resources } = spec.store.managed;
  const replicated = replicas > 1;
  const memory =
    (parseQuantity(resources.limits.memory) ?? 0) +
    (replicated ? (parseQuantity(SENTINEL_RESOURCES.limits.memory) ?? 0) : 0);
  const cpu =
    (parseQuantity(String(resources.limits.cpu)) ?? 0) +
    (replicated ? (parseQuantity(SENTINEL_RESOURCES.limits.cpu) ?? 0) : 0);
  return {
    pods: replicas,
    totalMemoryLimitMB: ceilMiB(replicas * memory),
    totalCPULimitMillicores: Math.round(replicas * cpu * 1000),
  };
}

export function evaluateStoreBudget(spec: ResolvedSpec): StoreBudgetOutcome {
  const { store } = spec;
  const invalid = (message: string): StoreBudgetOutcome => ({
    ok: false,
    failure: { reason: Reason.InvalidSpec, message },
  });
  const retention = panelRetention(spec);
  if (typeof retention === 'string') return invalid(retention);
  const stateBytes = retention.maxStateBytes;
  const perPanel = panelStoreBytes(retention);
  const given = store.maxPanels;
  if (store.mode !== 'Managed') {
    const maxPanels = given ?? DEFAULT_MAX_PANELS[store.mode];
    return {
      ok: true,
      maxPanels,
      budget: {
        maxPanels,
        maxPanelsDerived: given === undefined,
        maxStateBytes: stateBytes,
        perPanelBytes: perPanel.total,
      },
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
  const derived = Math.min(DERIVED_MAX_PANELS, Math.floor(maxmemory / perPanel.total));
  const maxPanels = given ?? derived;
  const worstCase = maxPanels * perPanel.total;
  const required = maxmemory + storeHeadroomBytes(maxmemory);
  const maxmemoryMB = floorMiB(maxmemory);
  const limitMB = floorMiB(limit);
  const requiredMB = ceilMiB(required);
  const footprint = storeFootprint(spec);
  const budget: StoreBudgetStatus = {
    maxPanels,
    maxPanelsDerived: given === undefined,
    maxStateBytes: stateBytes,
    perPanelBytes: perPanel.total,
    maxmemoryMB,
    limitMB,
    requiredMB,
    worstCaseMB: ceilMiB(worstCase),
    fits: worstCase <= maxmemory,
    ...footprint,
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
  const shrink =
    'lower runtime.maxStateSize, store.historySize, store.revisions, server.maxBodySize, store.logRing.size or store.idempotency';
  if (maxPanels < 1) {
    return {
      ok: false,
      budget,
      failure: {
        reason: Reason.StoreMemoryBudgetExceeded,
        message:
          `one panel at its bounds holds ${describePanelBytes(perPanel)}, more than ` +
          `store.managed.maxmemory ${store.managed.maxmemory}: not one panel fits. Raise maxmemory, or ${shrink}`,
      },
    };
  }
  const outcome: StoreBudgetOutcome = { ok: true, budget, maxPanels };
  if (!budget.fits) {
    outcome.warning = {
      reason: Reason.StorePanelsExceedMemory,
      message:
        `store.maxPanels ${maxPanels} × ${describePanelBytes(perPanel)} per panel = ${budget.worstCaseMB}Mi ` +
        `does not fit store.managed.maxmemory ${maxmemoryMB}Mi (at most ${derived} such panels fit): ` +
        `once the store is full its writes fail (it never evicts panels). ` +
        `Raise maxmemory, ${shrink}, or leave store.maxPanels unset`,
    };
  }
  return outcome;
}
