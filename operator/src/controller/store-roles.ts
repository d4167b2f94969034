// Reading a replicated store's roles from its Sentinels (see runtime/sentinel-client.ts for why
// over TCP), behind an interface so that the reconciler's tests answer for the Sentinels.
import { SENTINEL_MASTER } from '../builders/store/replication.js';
import { describeError } from '../errors.js';
import { readRoles, type StoreRoles } from '../policies/store-roles.js';
import { SENTINEL_QUERY_TIMEOUT_MS, exchange } from '../runtime/sentinel-client.js';

/** How soon a replicated store's status is looked at again: a failover changes no object the operator watches but the pods. */
export const STORE_ROLES_RECHECK_MS = 15_000;
/** The longest one reading may take over all the Sentinels it tries. */
export const STORE_ROLES_DEADLINE_MS = 4000;

export interface RoleTarget {
  /** host:port of the Sentinels to ask, in order: their Service, then each pod's. */
  sentinels: readonly string[];
  password: string;
}

export interface RoleReader {
  /** The store's roles, or why they could not be read. Never rejects. */
  read(target: RoleTarget): Promise<StoreRoles | string>;
}

/**
 * Asks the Sentinels in order until one answers: their Service first, then each pod's, since the
 * Service may still route to a pod that has just gone (the primary's, in a failover).
 */
export class SentinelRoleReader implements RoleReader {
  constructor(
    private readonly deadlineMs = STORE_ROLES_DEADLINE_MS,
    private readonly now: () => number = Date.now,
  ) {}

  async read({ sentinels, password }: RoleTarget): Promise<StoreRoles | string> {
    const deadline = this.now() + this.deadlineMs;
    let first: string | undefined;
    for (const address of sentinels) {
      const left = deadline - this.now();
      if (left <= 0) break;
      const roles = await this.ask(address, password, left);
      if (typeof roles !== 'string') return roles;
      first ??= `${address}: ${roles}`;
    }
    return first ?? 'no Sentinel to ask';
  }

  private async ask(address: string, password: string, timeoutMs: number): Promise<StoreRoles | string> {
    const colon = address.lastIndexOf(':');
    try {
      const [auth, master, replicas] = await exchange(
        address.slice(0, colon),
        Number(address.slice(colon + 1)),
        [
          ['AUTH', password],
          ['SENTINEL', 'MASTER', SENTINEL_MASTER],
          ['SENTINEL', 'REPLICAS', SENTINEL_MASTER],
        ],
        Math.min(timeoutMs, SENTINEL_QUERY_TIMEOUT_MS),
      );
      if (auth instanceof Error) return `AUTH: ${auth.message}`;
      return readRoles(master!, replicas!);
    } catch (error) {
      return describeError(error);
    }
  }
}
