// Pure decisions of leader election on a coordination.k8s.io Lease, in client-go's manner: expiry
// is judged by when *we* last saw the record change (our own clock), never by the timestamps in it,
// so clock skew between machines cannot hand the lease to two holders.

export interface LeaseRecord {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: Date | string;
  renewTime?: Date | string;
  leaseTransitions?: number;
}

export interface Observation {
  /** A fingerprint of the record as last read. */
  fingerprint: string;
  /** When (our clock, ms) the record last changed. */
  observedAtMs: number;
}

export function fingerprint(record: LeaseRecord | undefined): string {
  if (!record) return '';
  const time = (t: Date | string | undefined) => (t instanceof Date ? t.toISOString() : (t ?? ''));
  return [
    record.holderIdentity ?? '',
    record.leaseDurationSeconds ?? '',
    time(record.renewTime),
    record.leaseTransitions ?? 0,
  ].join('|');
}

/** Update what we know about the record: the observation time moves only when the record changed. */
export function observe(
  previous: Observation | undefined,
  record: LeaseRecord | undefined,
  nowMs: number,
): Observation {
  const fp = fingerprint(record);
  if (previous && previous.fingerprint === fp) return previous;
  return { fingerprint: fp, observedAtMs: nowMs };
}

/** May `identity` write itself into the lease now? */
export function mayTakeLease(
  record: LeaseRecord | undefined,
  observation: Observation,
  nowMs: number,
  identity: string,
  fallbackDurationSeconds: number,
): boolean {
  const holder = record?.holderIdentity;
  if (!holder || holder === identity) return true;
  const durationMs = (record.leaseDurationSeconds || fallbackDurationSeconds) * 1000;
  return observation.observedAtMs + durationMs <= nowMs;
}

/** The record to write when taking or renewing the lease. */
export function nextRecord(
  current: LeaseRecord | undefined,
  identity: string,
  now: Date,
  leaseDurationSeconds: number,
): LeaseRecord {
  const renewing = current?.holderIdentity === identity;
  return {
    holderIdentity: identity,
    leaseDurationSeconds,
    acquireTime: renewing && current?.acquireTime ? microTime(current.acquireTime) : microTime(now),
    renewTime: microTime(now),
    // Any change of holder is a transition, taking a released lease included; creating one is not.
    leaseTransitions: (current?.leaseTransitions ?? 0) + (renewing || !current ? 0 : 1),
  };
}

/** The record a leader leaves behind on a clean shutdown: free, and expiring at once. */
export function releasedRecord(current: LeaseRecord | undefined, now: Date): LeaseRecord {
  return {
    holderIdentity: '',
    leaseDurationSeconds: 1,
    acquireTime: microTime(current?.acquireTime ?? now),
    renewTime: microTime(now),
    leaseTransitions: current?.leaseTransitions ?? 0,
  };
}

/**
 * A MicroTime string. The API server parses Lease times with exactly six fractional digits and
 * rejects Date#toISOString()'s three, so times are written as strings padded to microseconds.
 */
export function microTime(time: Date | string): string {
  const iso = time instanceof Date ? time.toISOString() : new Date(time).toISOString();
  return iso.replace(/\.(\d{3})Z$/, '.$1000Z');
}
