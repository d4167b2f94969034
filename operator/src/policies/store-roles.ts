// What the Sentinels' answers say about a replicated store: which pod is primary, and how many
// replicas are in sync with it. Pure: the answers come from runtime/sentinel-client.ts.
import type { Reply } from '../runtime/sentinel-client.js';

export interface StoreRoles {
  /** The primary's pod name (the first label of the host name it announces). */
  primary: string;
  /** Whether the Sentinel that answered considers the primary down. */
  primaryDown: boolean;
  /** Replicas the Sentinels know of. */
  replicas: number;
  /** Replicas up, with their link to the primary up. */
  replicasInSync: number;
}

/** A flat [field, value, field, value, ...] reply as a map. */
function fields(reply: Reply): Map<string, string> | undefined {
  if (!Array.isArray(reply)) return undefined;
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < reply.length; i += 2) {
    const [key, value] = [reply[i], reply[i + 1]];
    if (typeof key === 'string' && typeof value === 'string') map.set(key, value);
  }
  return map;
}

const flagsOf = (entry: Map<string, string>) => new Set((entry.get('flags') ?? '').split(','));
/** A pod's name from its DNS name (`<pod>.<service>.<namespace>.svc`); an address as it is. */
const podOf = (host: string) =>
  /^[\d.]+$/.test(host) || host.includes(':') ? host : (host.split('.')[0] ?? host);
const DOWN = ['s_down', 'o_down', 'disconnected'];

/** The roles from the replies to SENTINEL MASTER and SENTINEL REPLICAS, or what is wrong with them. */
export function readRoles(master: Reply, replicas: Reply): StoreRoles | string {
  if (master instanceof Error) return `SENTINEL MASTER: ${master.message}`;
  if (replicas instanceof Error) return `SENTINEL REPLICAS: ${replicas.message}`;
  const primary = fields(master);
  const host = primary?.get('ip');
  if (!primary || !host) return 'SENTINEL MASTER named no primary';
  if (!Array.isArray(replicas)) return 'SENTINEL REPLICAS answered no list';
  const known = replicas.map(fields).filter((r): r is Map<string, string> => r !== undefined);
  const inSync = known.filter((r) => {
    const flags = flagsOf(r);
    return !DOWN.some((flag) => flags.has(flag)) && r.get('master-link-status') === 'ok';
  });
  const primaryFlags = flagsOf(primary);
  return {
    primary: podOf(host),
    primaryDown: DOWN.some((flag) => primaryFlags.has(flag)),
    replicas: known.length,
    replicasInSync: inSync.length,
  };
}
