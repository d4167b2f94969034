// Whether a live object already carries everything we would apply. Skipping no-op applies keeps an
// idle operator from writing at all; the applied-hash annotation (part of what we compare) catches
// fields we stopped setting, and the field-by-field check catches edits made by someone else.
import { APPLIED_HASH_ANNOTATION } from '../api/group.js';

/** Every field of `desired` is present in `live` with an equal value (arrays element by element). */
export function isSubset(desired: unknown, live: unknown): boolean {
  if (desired === undefined) return true;
  if (desired === null || typeof desired !== 'object') {
    return (
      desired === live ||
      (live !== null && live !== undefined && String(desired) === String(live) && typeof live !== 'object')
    );
  }
  if (Array.isArray(desired)) {
    if (!Array.isArray(live) || live.length !== desired.length) return false;
    return desired.every((item, i) => isSubset(item, live[i]));
  }
  if (live === null || typeof live !== 'object' || Array.isArray(live)) return false;
  const liveRecord = live as Record<string, unknown>;
  return Object.entries(desired as Record<string, unknown>).every(([key, value]) =>
    isSubset(value, liveRecord[key]),
  );
}

export type ApplyReason = 'create' | 'update' | 'repair' | 'none';

interface Annotated {
  metadata?: { annotations?: Record<string, string> };
}

/** What applying `desired` over `live` would do: create it, change it, undo an outside edit, or nothing. */
export function applyReason(desired: Annotated, live: Annotated | undefined): ApplyReason {
  if (!live) return 'create';
  if (isSubset(desired, live)) return 'none';
  const wanted = desired.metadata?.annotations?.[APPLIED_HASH_ANNOTATION];
  const seen = live.metadata?.annotations?.[APPLIED_HASH_ANNOTATION];
  return wanted === seen ? 'repair' : 'update';
}
