// Finding the store a pass will configure the kernels for. The only I/O of the store decisions:
// creating the managed store's Secret once (and reading it back after a lost race), and reading
// the Secrets an external store names — by name, since they carry no label an informer could
// filter on. Everything else is decided by the pure policies in policies/store.ts.
import { randomBytes } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import { childName, type Children } from '../api/children.js';
import { Reason } from '../api/conditions.js';
import type { ResolvedSpec } from '../api/defaults.js';
import type { StoreStatus } from '../api/types.js';
import type { StorePlan } from '../builders/plan.js';
import {
  buildStoreSecret,
  managedEndpoint,
  readCredentials,
  storeCredentials,
} from '../builders/store/secret.js';
import { sentinelEndpoint } from '../builders/store/replication.js';
import { checkExternalStore, effectivePersistence } from '../policies/store.js';
import type { PolicyResult } from '../policies/result.js';
import type { ClusterWriter, SecretReader } from './client.js';

/** How soon a pass that found an external store's Secret missing or unusable looks again. */
export const EXTERNAL_RECHECK_MS = 10_000;

export interface StoreTarget {
  name: string;
  namespace: string;
  uid: string;
  spec: ResolvedSpec;
  observed: Children;
}

export type StoreResolution =
  | { ok: true; plan: StorePlan; status: StoreStatus; warning?: PolicyResult; createdSecret?: string }
  | { ok: false; failure: PolicyResult; status: StoreStatus; requeueAfterMs?: number };

/** A password of 192 random bits, hex: safe in a URL and in the store's configuration. */
export function generatePassword(): string {
  return randomBytes(24).toString('hex');
}

export class StoreResolver {
  constructor(
    private readonly writer: ClusterWriter,
    private readonly secrets: SecretReader,
    private readonly password: () => string = generatePassword,
  ) {}

  async resolve(target: StoreTarget): Promise<StoreResolution> {
    const { mode } = target.spec.store;
    if (mode === 'External') return this.external(target);
    if (mode === 'Managed') return this.managed(target);
    return {
      ok: true,
      plan: { mode: 'Embedded' },
      status: { mode, volumeClaimName: childName('panelsVolume', target.name) },
    };
  }

  private async managed(target: StoreTarget): Promise<StoreResolution> {
    const { name, namespace, uid, spec, observed } = target;
    const secretName = childName('storeSecret', name);
    const { replicas } = spec.store.managed;
    const replicated = replicas > 1;
    const status: StoreStatus = {
      mode: 'Managed',
      endpoint: replicated ? sentinelEndpoint(name, namespace) : managedEndpoint(name, namespace),
      secretName,
      replicas,
    };
    const conflict = (message: string): StoreResolution => ({
      ok: false,
      status,
      failure: { reason: Reason.StoreSecretConflict, message },
    });
    let secret: V1Secret | undefined = observed.storeSecret;
    let createdSecret: string | undefined;
    if (!secret) {
      // Created, never applied: if another pass (or a cache that lags) already made it, the
      // create fails and the existing password is read back instead of replaced.
      const fresh = buildStoreSecret(
        { name, namespace, uid },
        storeCredentials(name, namespace, this.password()),
      );
      const created = await this.writer.create(fresh);
      if (created) {
        secret = { ...fresh, data: encode(fresh.stringData ?? {}) };
        createdSecret = `Secret ${secretName}`;
      } else {
        secret = await this.secrets.readSecret(namespace, secretName);
        const owner = secret?.metadata?.ownerReferences?.find((ref) => ref.controller);
        if (secret && owner?.uid !== uid) {
          return conflict(
            `Secret ${secretName} exists and does not belong to this NexusRuntime: rename or delete it`,
          );
        }
        if (!secret) return conflict(`Secret ${secretName} could not be created or read; retrying`);
      }
    }
    let credentials = readCredentials(secret);
    if (typeof credentials === 'string') {
      return conflict(`${credentials}: delete it and the operator creates a new one (with a new password)`);
    }
    if (replicated && !credentials.sentinelUrl) {
      // A Secret written before the store could be replicated has no Sentinel URL, and Secrets
      // are never patched: it is written again, with the same password.
      const again = buildStoreSecret(
        { name, namespace, uid },
        storeCredentials(name, namespace, credentials.password),
      );
      await this.writer.delete({ apiVersion: 'v1', kind: 'Secret', name: secretName, namespace });
      if (!(await this.writer.create(again))) {
        return conflict(`Secret ${secretName} could not be written again with the Sentinels' URL; retrying`);
      }
      credentials = storeCredentials(name, namespace, credentials.password);
      createdSecret = `Secret ${secretName}`;
    }
    const serviceName = observed.storeStatefulSet?.spec?.serviceName ?? childName('storePods', name);
    if (replicated && serviceName !== childName('storePods', name)) {
      const statefulSet = childName('storeStatefulSet', name);
      return {
        ok: false,
        status,
        failure: {
          reason: Reason.StoreServiceImmutable,
          message:
            `store.managed.replicas ${replicas} needs pods with DNS names, but StatefulSet ${statefulSet} is governed by ` +
            `Service ${serviceName}, which gives them none, and a StatefulSet's service cannot change. ` +
            `Delete it with \`kubectl delete statefulset ${statefulSet} --cascade=orphan\`: its pod and volume are kept, ` +
            `and the operator creates it anew`,
        },
      };
    }
    const { persistence, warning } = effectivePersistence(
      spec,
      observed.storeStatefulSet,
      childName('storeStatefulSet', name),
    );
    const resolution: StoreResolution = {
      ok: true,
      status,
      plan: { mode: 'Managed', credentials, persistence, serviceName },
    };
    if (warning) resolution.warning = warning;
    if (createdSecret) resolution.createdSecret = createdSecret;
    return resolution;
  }

  private async external(target: StoreTarget): Promise<StoreResolution> {
    const { namespace, spec } = target;
    const { urlSecretRef, caSecretRef, topology } = spec.store.external;
    const status: StoreStatus = { mode: 'External', topology };
    if (urlSecretRef) status.secretName = urlSecretRef.name;
    const urlSecret = urlSecretRef ? await this.secrets.readSecret(namespace, urlSecretRef.name) : undefined;
    const caSecret =
      caSecretRef && caSecretRef.name !== urlSecretRef?.name
        ? await this.secrets.readSecret(namespace, caSecretRef.name)
        : urlSecret;
    const check = checkExternalStore(spec, urlSecret, caSecret);
    if (!check.ok) return { ok: false, status, failure: check.failure, requeueAfterMs: EXTERNAL_RECHECK_MS };
    status.endpoint = check.address.endpoint;
    const plan: StorePlan = {
      mode: 'External',
      urlSecretRef: urlSecretRef!,
      topology,
      port: check.address.port,
      contentHash: check.contentHash,
    };
    if (caSecretRef) plan.caSecretRef = caSecretRef;
    return { ok: true, status, plan };
  }
}

function encode(data: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
}
