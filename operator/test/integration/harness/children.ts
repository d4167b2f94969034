// Reads of the objects the operator owns for a NexusRuntime named N (docs/crd-reference.md).
import type {
  V1ConfigMap,
  V1Deployment,
  V1NetworkPolicy,
  V1PersistentVolumeClaim,
  V1Secret,
  V1Service,
  V1StatefulSet,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';

import { eventually } from './eventually.js';
import { ignoreNotFound, type NexusRuntime } from './kube.js';
import type { Suite } from './suite.js';

export async function configMapOf(suite: Suite, name: string): Promise<V1ConfigMap | undefined> {
  return ignoreNotFound(
    suite.cluster.core.readNamespacedConfigMap({ namespace: suite.namespace, name: `${name}-config` }),
  );
}

export async function deploymentOf(suite: Suite, name: string): Promise<V1Deployment | undefined> {
  return ignoreNotFound(suite.cluster.apps.readNamespacedDeployment({ namespace: suite.namespace, name }));
}

export async function hpaOf(suite: Suite, name: string): Promise<V2HorizontalPodAutoscaler | undefined> {
  return ignoreNotFound(
    suite.cluster.autoscaling.readNamespacedHorizontalPodAutoscaler({ namespace: suite.namespace, name }),
  );
}

/** The pod-template annotation carrying the config hash, found by value so its key stays free. */
export function templateHash(deployment: V1Deployment, runtime: NexusRuntime): string | undefined {
  const hash = runtime.status?.configHash;
  const annotations = deployment.spec?.template.metadata?.annotations ?? {};
  return hash !== undefined && Object.values(annotations).includes(hash) ? hash : undefined;
}

/** A Deployment whose rollout is finished: every replica updated, available and ready. */
export function rolledOut(deployment: V1Deployment | undefined): boolean {
  if (!deployment?.spec || !deployment.status) return false;
  const want = deployment.spec.replicas ?? 1;
  const status = deployment.status;
  return (
    (status.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0) &&
    (status.updatedReplicas ?? 0) === want &&
    (status.readyReplicas ?? 0) === want &&
    (status.replicas ?? 0) === want
  );
}

export function isControlledBy(
  object: { metadata?: { ownerReferences?: { uid: string; controller?: boolean }[] } },
  owner: NexusRuntime,
): boolean {
  return (object.metadata?.ownerReferences ?? []).some(
    (ref) => ref.uid === owner.metadata.uid && ref.controller,
  );
}

/** Waits for an Event with `reason` recorded on the NexusRuntime and returns its message. */
export async function eventOn(suite: Suite, name: string, reason: string): Promise<string> {
  return eventually(`a ${reason} Event on NexusRuntime ${name}`, async () => {
    const events = await suite.cluster.core.listNamespacedEvent({
      namespace: suite.namespace,
      fieldSelector: `involvedObject.kind=NexusRuntime,involvedObject.name=${name},reason=${reason}`,
    });
    return events.items[0]?.message ?? undefined;
  });
}

export async function pdbOf(suite: Suite, name: string) {
  return ignoreNotFound(
    suite.cluster.policy.readNamespacedPodDisruptionBudget({ namespace: suite.namespace, name }),
  );
}

export async function networkPolicyOf(suite: Suite, name: string): Promise<V1NetworkPolicy | undefined> {
  return ignoreNotFound(
    suite.cluster.networking.readNamespacedNetworkPolicy({ namespace: suite.namespace, name }),
  );
}

export async function volumeOf(suite: Suite, name: string): Promise<V1PersistentVolumeClaim | undefined> {
  return ignoreNotFound(
    suite.cluster.core.readNamespacedPersistentVolumeClaim({ namespace: suite.namespace, name }),
  );
}

export async function secretOf(suite: Suite, name: string): Promise<V1Secret | undefined> {
  return ignoreNotFound(suite.cluster.core.readNamespacedSecret({ namespace: suite.namespace, name }));
}

/** The managed store of runtime N: Secret, ConfigMap, Service, StatefulSet and NetworkPolicy N-store. */
export interface StoreObjects {
  secret?: V1Secret;
  config?: V1ConfigMap;
  service?: V1Service;
  statefulSet?: V1StatefulSet;
  networkPolicy?: V1NetworkPolicy;
}

export async function storeOf(suite: Suite, runtime: string): Promise<StoreObjects> {
  const namespace = suite.namespace;
  const name = `${runtime}-store`;
  const [secret, config, service, statefulSet, networkPolicy] = await Promise.all([
    secretOf(suite, name),
    ignoreNotFound(suite.cluster.core.readNamespacedConfigMap({ namespace, name })),
    ignoreNotFound(suite.cluster.core.readNamespacedService({ namespace, name })),
    ignoreNotFound(suite.cluster.apps.readNamespacedStatefulSet({ namespace, name })),
    networkPolicyOf(suite, name),
  ]);
  const objects: StoreObjects = {};
  if (secret) objects.secret = secret;
  if (config) objects.config = config;
  if (service) objects.service = service;
  if (statefulSet) objects.statefulSet = statefulSet;
  if (networkPolicy) objects.networkPolicy = networkPolicy;
  return objects;
}

/** A Secret value, decoded. */
export function secretValue(secret: V1Secret | undefined, key: string): string | undefined {
  const value = secret?.data?.[key];
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
}

/** Every message of the Events with `reason` on the NexusRuntime (possibly none). */
export async function eventsOn(suite: Suite, name: string, reason: string): Promise<string[]> {
  const events = await suite.cluster.core.listNamespacedEvent({
    namespace: suite.namespace,
    fieldSelector: `involvedObject.kind=NexusRuntime,involvedObject.name=${name},reason=${reason}`,
  });
  return events.items.map((e) => e.message ?? '');
}
