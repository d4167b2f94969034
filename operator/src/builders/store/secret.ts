// The managed store's Secret: a password generated once (by the reconciler, which is allowed
// randomness) and the URLs the kernels read as STORE_URL: `url`, the Redis Service, with one
// Redis; `sentinelUrl`, the Sentinels' Service, replicated. Created, never applied: later passes
// read it back, so the password never changes while the Secret exists.
import type { V1Secret } from '@kubernetes/client-node';
import { childName } from '../../api/children.js';
import { childMetadata, type PlanIdentity } from '../labels.js';
import { PORTS, type StoreCredentials } from '../plan.js';
import { sentinelEndpoint } from './replication.js';

/** host:port of the managed store's Service. */
export function managedEndpoint(name: string, namespace: string): string {
  return `${childName('storeService', name)}.${namespace}.svc:${PORTS.store}`;
}

export function storeCredentials(name: string, namespace: string, password: string): StoreCredentials {
  return {
    password,
    url: `redis://:${password}@${managedEndpoint(name, namespace)}`,
    sentinelUrl: `redis://:${password}@${sentinelEndpoint(name, namespace)}`,
  };
}

export function buildStoreSecret(plan: PlanIdentity, credentials: StoreCredentials): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: childMetadata(plan, 'storeSecret'),
    type: 'Opaque',
    stringData: {
      password: credentials.password,
      url: credentials.url,
      ...(credentials.sentinelUrl ? { sentinelUrl: credentials.sentinelUrl } : {}),
    },
  };
}

/** The credentials a Secret holds, or what is wrong with it. */
export function readCredentials(secret: V1Secret): StoreCredentials | string {
  const decode = (key: string) => {
    const value = secret.data?.[key];
    return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
  };
  const password = decode('password');
  const url = decode('url');
  if (!password) return `Secret ${secret.metadata?.name} has no key "password"`;
  if (!url) return `Secret ${secret.metadata?.name} has no key "url"`;
  const sentinelUrl = decode('sentinelUrl');
  return sentinelUrl ? { password, url, sentinelUrl } : { password, url };
}
