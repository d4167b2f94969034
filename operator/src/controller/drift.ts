// Whether a live object already carries everything we would apply. Skipping no-op applies keeps an
// idle operator from writing at all; the applied-hash annotation (part of what we compare) catches
// fields we stopped setting, and the field-by-field check catches edits made by someone else.
import { APPLIED_HASH_ANNOTATION } from '../api/group.js';

/** Every field of `desired` is present in `live` with an equal value (arrays element by element). */
export function isSubset(desired: unknown, live: unknown): boolean {
  if (desired === undefined) return true;
  // The API server leaves zero values out of what it returns (Go's omitempty).
  if (live === undefined && isZero(desired)) return true;
  if (isScalar(desired)) {
    // A quantity or port may come back as a number where we wrote a string, or the other way round.
    return desired === live || (isScalar(live) && String(desired) === String(live));
  }
  if (desired === null || typeof desired !== 'object') return desired === live;
  if (Array.isArray(desired)) {
    if (!Array.isArray(live) || live.length !== desired.length) return false;
    return desired.every((item, i) => isSubset(item, live[i]));
  }
  if (live === null || typeof live !== 'object' || Array.isArray(live)) return false;
  const liveRecord = live as Record<string, unknown>;
  return Object.entries(desired as Record<string, unknown>).every(([key, value]) =>
    isSubset(value, liveField(liveRecord, key)),
  );
}

/**
 * A field of a live object. client-node's models rename fields that are reserved words (a
 * NetworkPolicy rule's `from` is `_from`); objects that reach the cache through a watch keep the
 * wire name, those from a list the model's.
 */
function liveField(live: Record<string, unknown>, key: string): unknown {
  if (key in live || !key.startsWith('_')) return live[key];
  return live[key.slice(1)];
}

export type ApplyReason = 'create' | 'update' | 'repair' | 'none';

interface Annotated {
  apiVersion?: string;
  kind?: string;
  metadata?: { annotations?: Record<string, string> };
}

/** Items of a list carry no apiVersion and kind: compare the rest. */
export function comparable<T extends Annotated>(object: T): Omit<T, 'apiVersion' | 'kind'> {
  const { apiVersion: _apiVersion, kind: _kind, ...rest } = object;
  return rest;
}

/** What applying `desired` over `live` would do: create it, change it, undo an outside edit, or nothing. */
export function applyReason(desired: Annotated, live: Annotated | undefined): ApplyReason {
  if (!live) return 'create';
  if (isSubset(comparable(desired), live)) return 'none';
  const wanted = desired.metadata?.annotations?.[APPLIED_HASH_ANNOTATION];
  const seen = live.metadata?.annotations?.[APPLIED_HASH_ANNOTATION];
  return wanted === seen ? 'repair' : 'update';
}

function isZero(value: unknown): boolean {
  if (value === 0 || value === false || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  return value !== null && typeof value === 'object' && Object.values(value).every(isZero);
}

/** The path of the first desired field the live object disagrees with, for logs. */
export function firstDifference(desired: unknown, live: unknown, path = ''): string | undefined {
  if (isSubset(desired, live)) return undefined;
  if (desired !== null && typeof desired === 'object' && live !== null && typeof live === 'object') {
    if (Array.isArray(desired)) {
      if (!Array.isArray(live) || live.length !== desired.length) return `${path} (length)`;
      for (let i = 0; i < desired.length; i++) {
        const found = firstDifference(desired[i], live[i], `${path}[${i}]`);
        if (found) return found;
      }
    } else {
      for (const [key, value] of Object.entries(desired as Record<string, unknown>)) {
        const found = firstDifference(
          value,
          liveField(live as Record<string, unknown>, key),
          `${path}.${key}`,
        );
        if (found) return found;
      }
    }
  }
  return path || '.';
}

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}
