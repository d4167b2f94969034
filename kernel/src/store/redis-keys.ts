// Key and channel names of the Redis store. Everything of one panel shares the hash tag `{<id>}`,
// so its scripts run in one slot of a Redis Cluster; the index has a tag of its own.

export interface PanelKeys {
  readonly meta: string;
  readonly definition: string;
  readonly state: string;
  readonly history: string;
  readonly lock: string;
  /** The definitions kept (PANEL_REVISIONS), newest last. */
  readonly revisions: string;
  /** The log ring (PANEL_LOG_LINES, PANEL_LOG_BYTES), newest last. */
  readonly logs: string;
  /** Request records by Idempotency-Key (a hash), and when each expires (a sorted set). */
  readonly requests: string;
  readonly requestExpiry: string;
  readonly channel: string;
}

export interface IndexKeys {
  readonly panels: string;
  readonly pending: string;
}

/** A prefix may not contain braces (they would change which part of a key is hashed). */
export function validPrefix(prefix: string): boolean {
  return !/[{}\s]/.test(prefix) && prefix.length <= 64;
}

export function panelKeys(prefix: string, id: string): PanelKeys {
  const base = `${prefix}{${id}}:`;
  return {
    meta: `${base}m`,
    definition: `${base}d`,
    state: `${base}s`,
    history: `${base}h`,
    lock: `${base}l`,
    revisions: `${base}r`,
    logs: `${base}g`,
    requests: `${base}q`,
    requestExpiry: `${base}qx`,
    channel: `${base}f`,
  };
}

export function indexKeys(prefix: string): IndexKeys {
  return { panels: `${prefix}{index}:panels`, pending: `${prefix}{index}:pending` };
}

/** Where an applied commit leaves its marker (redis-scripts.ts COMMIT), in the panel's slot. */
export function commitMarkerKey(prefix: string, id: string, token: string): string {
  return `${prefix}{${id}}:c:${token}`;
}
