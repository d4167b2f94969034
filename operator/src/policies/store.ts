// Decisions about the store that need no I/O: is an external store's Secret usable, which
// persistence a managed store runs with, where an embedded volume stands.
import type { V1Deployment, V1PersistentVolumeClaim, V1Secret, V1StatefulSet } from '@kubernetes/client-node';
import { parseHostPort, parseStoreUrl as parseKernelStoreUrl } from '@nexus/kernel/config-table';
import { Reason } from '../api/conditions.js';
import type { ResolvedSpec } from '../api/defaults.js';
import { PANELS_IMPORT_ANNOTATION } from '../api/group.js';
import { parseQuantity } from '../api/quantity.js';
import type { SecretKeyRef } from '../api/types.js';
import { contentHash } from '../builders/hash.js';
import type { PanelsPhase } from '../builders/plan.js';
import { LIMITS } from '../api/defaults.js';
import type { PolicyResult } from './result.js';

export interface StoreAddress {
  /** host:port, without credentials. */
  endpoint: string;
  port: number;
  tls: boolean;
}

/**
 * Parses redis://[user][:password]@host:port[/db] or rediss://… by the kernel's own rules (it reads
 * the URL as STORE_URL), and refuses a database other than 0 for Redis Cluster. Messages never
 * repeat the URL: it carries the password.
 */
export function parseStoreUrl(text: string, topology: string): StoreAddress | string {
  const url = parseKernelStoreUrl(text);
  if (typeof url === 'string') return url;
  if (topology === 'cluster' && url.database !== 0) {
    return `selects database ${url.database}; Redis Cluster has database 0 only`;
  }
  return { endpoint: `${url.host}:${url.port}`, port: url.port, tls: url.tls };
}

export type ExternalCheck =
  { ok: true; address: StoreAddress; contentHash: string } | { ok: false; failure: PolicyResult };

function value(secret: V1Secret | undefined, key: string): string | undefined {
  const encoded = secret?.data?.[key];
  return encoded === undefined ? undefined : Buffer.from(encoded, 'base64').toString('utf8');
}

const missing = (ref: SecretKeyRef, what: string, secret: V1Secret | undefined): PolicyResult => ({
  reason: Reason.StoreSecretMissing,
  message: secret
    ? `Secret ${ref.name} has no key "${ref.key}" (${what}); nothing is rolled out until it has`
    : `Secret ${ref.name} (${what}, key "${ref.key}") does not exist; nothing is rolled out until it does`,
});

/** Whether the Secrets an external store names exist and hold a usable URL (and CA bundle). */
export function checkExternalStore(
  spec: ResolvedSpec,
  urlSecret: V1Secret | undefined,
  caSecret: V1Secret | undefined,
): ExternalCheck {
  const { urlSecretRef, caSecretRef, topology } = spec.store.external;
  if (!urlSecretRef) {
    return {
      ok: false,
      failure: {
        reason: Reason.InvalidSpec,
        message: 'store.mode is External but store.external.urlSecretRef is unset',
      },
    };
  }
  const url = value(urlSecret, urlSecretRef.key);
  if (url === undefined) return { ok: false, failure: missing(urlSecretRef, 'the store URL', urlSecret) };
  const address = parseStoreUrl(url, topology);
  if (typeof address === 'string') {
    return {
      ok: false,
      failure: {
        reason: Reason.StoreURLInvalid,
        message: `the store URL in Secret ${urlSecretRef.name}, key "${urlSecretRef.key}", ${address}`,
      },
    };
  }
  let ca: string | undefined;
  if (caSecretRef && !address.tls) {
    return {
      ok: false,
      failure: {
        reason: Reason.StoreURLInvalid,
        message: `store.external.tls.caSecretRef is set but the store URL in Secret ${urlSecretRef.name}, key "${urlSecretRef.key}", is not a rediss:// URL`,
      },
    };
  }
  if (caSecretRef) {
    ca = value(caSecret, caSecretRef.key);
    if (ca === undefined)
      return { ok: false, failure: missing(caSecretRef, 'the store CA bundle', caSecret) };
  }
  return { ok: true, address, contentHash: contentHash({ url, ca }) };
}

export interface Persistence {
  enabled: boolean;
  size: string;
  storageClassName?: string;
}

/** The persistence a live store StatefulSet runs with: its claim template, or none. */
export function livePersistence(statefulSet: V1StatefulSet): Persistence {
  const claim = statefulSet.spec?.volumeClaimTemplates?.[0];
  if (!claim) return { enabled: false, size: '0' };
  const live: Persistence = { enabled: true, size: String(claim.spec?.resources?.requests?.storage ?? '0') };
  if (claim.spec?.storageClassName) live.storageClassName = claim.spec.storageClassName;
  return live;
}

/**
 * A StatefulSet's volume claim templates cannot change. When the spec asks for other persistence
 * than the live store has, the store keeps what it has and the runtime says so.
 */
export function effectivePersistence(
  spec: ResolvedSpec,
  live: V1StatefulSet | undefined,
  storeName: string,
): { persistence: Persistence; warning?: PolicyResult } {
  const { enabled, size, storageClassName } = spec.store.managed.persistence;
  const wanted: Persistence = { enabled, size };
  if (storageClassName) wanted.storageClassName = storageClassName;
  if (!live) return { persistence: wanted };
  const current = livePersistence(live);
  const sameSize = parseQuantity(current.size) === parseQuantity(wanted.size);
  const same =
    current.enabled === wanted.enabled &&
    (!wanted.enabled ||
      (sameSize && (!wanted.storageClassName || wanted.storageClassName === current.storageClassName)));
  if (same) return { persistence: current.enabled ? { ...wanted, ...current } : wanted };
  const describe = (p: Persistence) =>
    p.enabled
      ? `a ${p.size} volume${p.storageClassName ? ` of class ${p.storageClassName}` : ''}`
      : 'no volume';
  return {
    persistence: current,
    warning: {
      reason: Reason.StorePersistenceImmutable,
      message:
        `store.managed.persistence asks for ${describe(wanted)} but StatefulSet ${storeName} has ${describe(current)}, ` +
        `and a StatefulSet's volume claims cannot change: the store keeps ${describe(current)}. ` +
        `Delete the StatefulSet to have it created anew with the new settings`,
    },
  };
}

/** Whether a Deployment runs the import configuration for `claim` and has finished rolling it out. */
function importRolledOut(deployment: V1Deployment | undefined, claim: string): boolean {
  if (deployment?.spec?.template?.metadata?.annotations?.[PANELS_IMPORT_ANNOTATION] !== claim) return false;
  const status = deployment.status ?? {};
  const want = deployment.spec.replicas ?? 1;
  return (
    want >= 1 &&
    (status.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0) &&
    (status.updatedReplicas ?? 0) >= want &&
    (status.availableReplicas ?? 0) >= want &&
    (status.replicas ?? 0) === (status.updatedReplicas ?? 0)
  );
}

/**
 * Where the panels volume stands (see PanelsPhase). A kernel is Ready only once it has imported
 * PERSIST_DIR, so a rolled-out import configuration means the panels are in the shared store: the
 * volume is then deleted, and only once it is seen going does the fleet drop it (two steps, so
 * a cache that has not seen the deletion yet cannot start a second import).
 */
export function panelsPhase(
  spec: ResolvedSpec,
  volume: V1PersistentVolumeClaim | undefined,
  deployment: V1Deployment | undefined,
  claim: string,
): PanelsPhase {
  if (spec.store.mode === 'Embedded') return 'embedded';
  if (!volume || volume.metadata?.deletionTimestamp) return 'none';
  return importRolledOut(deployment, claim) ? 'imported' : 'importing';
}

/** What a change of store.mode does to the panels, said once, when the mode changes. */
export function modeChangeNotice(
  from: string,
  spec: ResolvedSpec,
  names: { volume: string; store: string },
): { warning: boolean; message: string } | undefined {
  const to = spec.store.mode;
  if (from === to) return undefined;
  const leavingManaged =
    from === 'Managed'
      ? ` The managed store (StatefulSet ${names.store}) is deleted` +
        (spec.store.managed.persistence.retainOnDelete
          ? '; its volume is kept, and switching back to Managed finds its panels again.'
          : ' with its volume.')
      : '';
  if (from === 'Embedded') {
    return {
      warning: false,
      message:
        `store.mode changed from Embedded to ${to}: one kernel starts against the shared store with ` +
        `PersistentVolumeClaim ${names.volume} mounted and imports its panels, then the volume is deleted and the ` +
        `kernels scale out.`,
    };
  }
  if (to === 'Embedded') {
    return {
      warning: true,
      message:
        `store.mode changed from ${from} to Embedded: the panels of the ${from.toLowerCase()} store are not copied; ` +
        `the kernel serves the panels of PersistentVolumeClaim ${names.volume} (none, unless it was kept from before).` +
        leavingManaged,
    };
  }
  return {
    warning: true,
    message:
      `store.mode changed from ${from} to ${to}: the panels of the ${from.toLowerCase()} store are not copied ` +
      `to the ${to.toLowerCase()} one.` +
      leavingManaged,
  };
}

/**
 * What the schema's rules refuse in a managed store's replication, repeated for an object that
 * reached the operator without them: an even or out-of-range pod count (the Sentinels need a
 * majority), or more replicas to wait for than there are.
 */
export function managedStoreRefusal(spec: ResolvedSpec): PolicyResult | undefined {
  if (spec.store.mode !== 'Managed') return undefined;
  const { replicas, durability } = spec.store.managed;
  const { min, max } = LIMITS.storeReplicas;
  if (!Number.isInteger(replicas) || replicas < min || replicas > max || replicas % 2 === 0) {
    return {
      reason: Reason.InvalidSpec,
      message: `store.managed.replicas ${replicas} must be odd, from ${min} to ${max}: the Sentinels beside the pods need a majority to promote a replica`,
    };
  }
  if (durability.ackReplicas > replicas - 1) {
    return {
      reason: Reason.InvalidSpec,
      message: `store.managed.durability.ackReplicas ${durability.ackReplicas} must be at most store.managed.replicas - 1 = ${replicas - 1}: a commit would wait for replicas that do not exist`,
    };
  }
  return undefined;
}

/**
 * What the schema's rules refuse in an external store's Sentinel form, repeated for an object that
 * reached the operator without them: Sentinel settings with another topology, an entry of
 * store.external.sentinels that is not host:port (the kernel's own rule), or a master name the
 * kernel would not accept. The first Sentinel is the store URL's, checked with its Secret.
 */
export function externalStoreRefusal(spec: ResolvedSpec): PolicyResult | undefined {
  if (spec.store.mode !== 'External') return undefined;
  const { topology, sentinels, masterName } = spec.store.external;
  const refuse = (message: string): PolicyResult => ({ reason: Reason.InvalidSpec, message });
  if (topology !== 'sentinel') {
    if (sentinels.length > 0) {
      return refuse(
        `store.external.sentinels is set but store.external.topology is ${topology}: it is read with topology sentinel only`,
      );
    }
    if (masterName !== undefined) {
      return refuse(
        `store.external.masterName is set but store.external.topology is ${topology}: it is read with topology sentinel only`,
      );
    }
    return undefined;
  }
  if (sentinels.length > LIMITS.sentinels.maxItems) {
    return refuse(
      `store.external.sentinels lists ${sentinels.length} Sentinels; at most ${LIMITS.sentinels.maxItems}`,
    );
  }
  for (const [index, entry] of sentinels.entries()) {
    const node = parseHostPort(entry);
    if (typeof node === 'string') return refuse(`store.external.sentinels[${index}] is invalid: ${node}`);
  }
  const { pattern, maxLength, accepted } = LIMITS.sentinelMaster;
  if (masterName !== undefined && (masterName.length > maxLength || !new RegExp(pattern).test(masterName))) {
    return refuse(`store.external.masterName "${masterName}" is invalid: expected ${accepted}`);
  }
  return undefined;
}
