// Reading a replicated store's roles from its Sentinels (see runtime/sentinel-client.ts for why
// over TCP), behind an interface so that the reconciler's tests answer for the Sentinels.
import { SENTINEL_MASTER, sentinelEndpoint } from '../builders/store/replication.js';
import { describeError } from '../errors.js';
import { readRoles, type StoreRoles } from '../policies/store-roles.js';
import { exchange } from '../runtime/sentinel-client.js';

/** How soon a replicated store's status is looked at again: a failover changes no object the operator watches but the pods. */
export const STORE_ROLES_RECHECK_MS = 15_000;

export interface RoleTarget {
  name: string;
  namespace: string;
  password: string;
}

export interface RoleReader {
  /** The store's roles, or why they could not be read. Never rejects. */
  read(target: RoleTarget): Promise<StoreRoles | string>;
}

export class SentinelRoleReader implements RoleReader {
  async read({ name, namespace, password }: RoleTarget): Promise<StoreRoles | string> {
    const endpoint = sentinelEndpoint(name, namespace);
    const colon = endpoint.lastIndexOf(':');
    try {
      const [auth, master, replicas] = await exchange(
        endpoint.slice(0, colon),
        Number(endpoint.slice(colon + 1)),
        [
          ['AUTH', password],
          ['SENTINEL', 'MASTER', SENTINEL_MASTER],
          ['SENTINEL', 'REPLICAS', SENTINEL_MASTER],
        ],
      );
      if (auth instanceof Error) return `AUTH: ${auth.message}`;
      return readRoles(master!, replicas!);
    } catch (error) {
      return describeError(error);
    }
  }
}
