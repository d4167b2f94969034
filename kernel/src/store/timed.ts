// Times every operation of a store engine and counts the ones that fail
// (nexus_kernel_store_operation_duration_seconds, nexus_kernel_store_errors_total, and of those
// the commits that may have applied, nexus_kernel_store_commits_unconfirmed_total), without a
// forward per member: a proxy times the members the tables below name and passes every other one
// through. The operation label is the member's name: a fixed, small set.

import type { Counter, Histogram } from 'prom-client';
import { isKernelError } from '../errors.js';
import type { ImportTarget } from './import.js';
import type { Lease, PanelStore } from './types.js';

export interface StoreTimers {
  readonly storeDuration: Histogram<'operation'>;
  readonly storeErrors: Counter<'operation'>;
  readonly storeCommitsUnconfirmed: Counter;
}

type Wrap = (result: unknown, timers: StoreTimers) => unknown;

/** A lease's timed operations. */
const LEASE_OPERATIONS = new Map<keyof Lease, Wrap | undefined>([
  ['commit', undefined],
  ['release', undefined],
]);

/**
 * The store's timed operations (a lease's answer has its own operations timed too). Properties
 * (kind, available, origin), close and onReconnect pass through untimed.
 */
const STORE_OPERATIONS = new Map<keyof PanelStore | keyof ImportTarget, Wrap | undefined>([
  ['start', undefined],
  ['create', undefined],
  ['admit', undefined],
  ['discard', undefined],
  ['get', undefined],
  ['list', undefined],
  ['count', undefined],
  ['readState', undefined],
  [
    'lease',
    (lease, timers) =>
      typeof lease === 'object' && lease !== null ? timed(lease, LEASE_OPERATIONS, timers) : lease,
  ],
  ['history', undefined],
  ['beginDelete', undefined],
  ['finishDelete', undefined],
  ['publish', undefined],
  ['subscribe', undefined],
  ['appendLogs', undefined],
  ['readLogs', undefined],
  ['import', undefined],
]);

/** `store`, each of its operations timed. */
export function timeStore<S extends PanelStore>(store: S, timers: StoreTimers): S {
  return timed(store, STORE_OPERATIONS, timers);
}

function timed<T extends object>(
  target: T,
  operations: ReadonlyMap<PropertyKey, Wrap | undefined>,
  timers: StoreTimers,
): T {
  // One wrapper per member, made when first read (again if the member was replaced since).
  const members = new Map<PropertyKey, { source: unknown; member: unknown }>();
  return new Proxy(target, {
    get(object, property) {
      // The target is the receiver: getters and methods see the engine itself, not the proxy.
      const value: unknown = Reflect.get(object, property, object);
      if (typeof value !== 'function') return value;
      const known = members.get(property);
      if (known?.source === value) return known.member;
      const method = value as (...args: unknown[]) => unknown;
      const member = operations.has(property)
        ? timedOperation(String(property), method.bind(object), operations.get(property), timers)
        : method.bind(object);
      members.set(property, { source: value, member });
      return member;
    },
  });
}

function timedOperation(
  operation: string,
  run: (...args: unknown[]) => unknown,
  wrap: Wrap | undefined,
  timers: StoreTimers,
): (...args: unknown[]) => Promise<unknown> {
  return async (...args) => {
    const stop = timers.storeDuration.startTimer({ operation });
    let result: unknown;
    try {
      result = await run(...args);
    } catch (error) {
      timers.storeErrors.inc({ operation });
      if (isKernelError(error) && error.code === 'COMMIT_UNCONFIRMED') timers.storeCommitsUnconfirmed.inc();
      throw error;
    } finally {
      stop();
    }
    return wrap === undefined ? result : wrap(result, timers);
  };
}
