// The informers the operator runs — NexusRuntimes, and one per kind of the child table, filtered by
// our managed-by label so that no Secret or StatefulSet of anyone else is ever cached — and the
// read-only cache view the reconciler gets from them.
import type { KubeConfig, KubernetesObject, V1Pod } from '@kubernetes/client-node';
import { CHILD_KINDS, CHILDREN, type ChildKey, type ChildObject } from '../api/children.js';
import { API_VERSION, GROUP, KIND, PLURAL } from '../api/group.js';
import { runtimeKey } from '../api/keys.js';
import { LABEL, MANAGED_SELECTOR } from '../api/labels.js';
import type { NexusRuntime } from '../api/types.js';
import type { ClusterCache } from '../controller/client.js';
import type { Logger } from '../log.js';
import { ResilientInformer, listWatch, type WatchedKind } from './informers.js';
import type { OperatorMetrics } from './metrics.js';

const RUNTIMES: WatchedKind = { apiVersion: API_VERSION, kind: KIND, resource: PLURAL };
/**
 * The pods of our Deployments and StatefulSets (they carry the template's managed-by label): only
 * read, so that a pod the scheduler cannot place, an image that cannot be pulled or a crash loop
 * shows in the status at once rather than after the rollout's progress deadline.
 */
const PODS: WatchedKind = {
  apiVersion: 'v1',
  kind: 'Pod',
  resource: 'pods',
  labelSelector: MANAGED_SELECTOR,
};

/** A pod's runtime: its controller is a ReplicaSet or StatefulSet, so the instance label says. */
export function podKey(pod: KubernetesObject): string | undefined {
  const namespace = pod.metadata?.namespace;
  const instance = pod.metadata?.labels?.[LABEL.instance];
  return namespace && instance ? runtimeKey(namespace, instance) : undefined;
}

/**
 * The key of the NexusRuntime an object belongs to: its controller, or — for an object kept
 * without an owner reference (a retained volume) — the instance label of our managed objects.
 */
export function ownerKey(object: KubernetesObject): string | undefined {
  const namespace = object.metadata?.namespace;
  if (!namespace) return undefined;
  const owner = object.metadata?.ownerReferences?.find((ref) => ref.controller);
  if (owner) {
    const ours = owner.kind === KIND && owner.apiVersion.startsWith(`${GROUP}/`);
    return ours ? runtimeKey(namespace, owner.name) : undefined;
  }
  const instance = object.metadata?.labels?.[LABEL.instance];
  return instance ? runtimeKey(namespace, instance) : undefined;
}

const kindId = (apiVersion: string, kind: string) => `${apiVersion}/${kind}`;

export class OperatorCaches implements ClusterCache {
  readonly runtimes: ResilientInformer<NexusRuntime & KubernetesObject>;
  private readonly podInformer: ResilientInformer<V1Pod & KubernetesObject>;
  private readonly children = new Map<string, ResilientInformer<KubernetesObject>>();

  constructor(
    kc: KubeConfig,
    namespace: string,
    enqueue: (key: string) => void,
    metrics: OperatorMetrics,
    log: Logger,
  ) {
    const make = <T extends KubernetesObject>(kind: WatchedKind, toKey: (o: T) => string | undefined) =>
      new ResilientInformer<T>(
        (onListed) => listWatch<T>(kc, kind, namespace, onListed),
        kind.kind,
        (_event, object) => {
          const key = toKey(object);
          if (key) enqueue(key);
        },
        log,
        () => metrics.informerRestarts.inc({ kind: kind.kind }),
      );
    this.runtimes = make<NexusRuntime & KubernetesObject>(RUNTIMES, (o) =>
      o.metadata.namespace && o.metadata.name ? runtimeKey(o.metadata.namespace, o.metadata.name) : undefined,
    );
    this.podInformer = make<V1Pod & KubernetesObject>(PODS, podKey);
    for (const kind of CHILD_KINDS) {
      this.children.set(
        kindId(kind.apiVersion, kind.kind),
        make({ ...kind, labelSelector: MANAGED_SELECTOR }, ownerKey),
      );
    }
  }

  private all(): ResilientInformer<KubernetesObject>[] {
    return [
      this.runtimes as ResilientInformer<KubernetesObject>,
      this.podInformer,
      ...this.children.values(),
    ];
  }

  async start(): Promise<void> {
    await Promise.all(this.all().map((informer) => informer.start()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.all().map((informer) => informer.stop()));
  }

  get synced(): boolean {
    return this.all().every((informer) => informer.hasSynced);
  }

  /** Resolves once every informer has listed, or when `abandon()` turns true. */
  async waitForSync(abandon: () => boolean, intervalMs = 100): Promise<void> {
    while (!this.synced && !abandon()) await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }

  runtimeKeys(): string[] {
    return this.runtimes
      .list()
      .filter((r) => r.metadata.namespace && r.metadata.name)
      .map((r) => runtimeKey(r.metadata.namespace!, r.metadata.name!));
  }

  runtime(namespace: string, name: string): NexusRuntime | undefined {
    return this.runtimes.get(name, namespace);
  }

  child<K extends ChildKey>(key: K, namespace: string, name: string): ChildObject<K> | undefined {
    const row = CHILDREN[key];
    const informer = this.children.get(kindId(row.apiVersion, row.kind));
    return informer?.get(name, namespace) as ChildObject<K> | undefined;
  }

  pods(namespace: string, runtime: string): readonly V1Pod[] {
    return this.podInformer.list(namespace).filter((p) => p.metadata?.labels?.[LABEL.instance] === runtime);
  }
}
