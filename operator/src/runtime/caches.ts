// The informers the operator runs, and the read-only cache view the reconciler gets from them.
import type {
  KubeConfig,
  KubernetesObject,
  V1ConfigMap,
  V1Deployment,
  V1PodDisruptionBudget,
  V1Service,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import { API_VERSION, GROUP, KIND, PLURAL } from '../api/group.js';
import type { NexusRuntime } from '../api/types.js';
import { MANAGED_SELECTOR } from '../builders/labels.js';
import type { ClusterCache } from '../controller/client.js';
import { runtimeKey } from '../controller/reconciler.js';
import type { Logger } from '../log.js';
import { ResilientInformer, listWatch, type WatchedKind } from './informers.js';
import type { ConditionCount, OperatorMetrics } from './metrics.js';

const RUNTIMES: WatchedKind = { apiVersion: API_VERSION, kind: KIND, resource: PLURAL };
const owned = (apiVersion: string, kind: string, resource: string): WatchedKind => ({
  apiVersion,
  kind,
  resource,
  labelSelector: MANAGED_SELECTOR,
});
const CHILD_KINDS = {
  configMap: owned('v1', 'ConfigMap', 'configmaps'),
  deployment: owned('apps/v1', 'Deployment', 'deployments'),
  service: owned('v1', 'Service', 'services'),
  hpa: owned('autoscaling/v2', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers'),
  pdb: owned('policy/v1', 'PodDisruptionBudget', 'poddisruptionbudgets'),
} as const;

/** The key of the NexusRuntime that controls an object, if one does. */
export function ownerKey(object: KubernetesObject): string | undefined {
  const owner = object.metadata?.ownerReferences?.find(
    (ref) => ref.controller && ref.kind === KIND && ref.apiVersion.startsWith(`${GROUP}/`),
  );
  const namespace = object.metadata?.namespace;
  return owner && namespace ? runtimeKey(namespace, owner.name) : undefined;
}

export class OperatorCaches implements ClusterCache {
  readonly runtimes: ResilientInformer<NexusRuntime & KubernetesObject>;
  private readonly children: {
    configMap: ResilientInformer<V1ConfigMap>;
    deployment: ResilientInformer<V1Deployment>;
    service: ResilientInformer<V1Service>;
    hpa: ResilientInformer<V2HorizontalPodAutoscaler>;
    pdb: ResilientInformer<V1PodDisruptionBudget>;
  };

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
    this.children = {
      configMap: make<V1ConfigMap>(CHILD_KINDS.configMap, ownerKey),
      deployment: make<V1Deployment>(CHILD_KINDS.deployment, ownerKey),
      service: make<V1Service>(CHILD_KINDS.service, ownerKey),
      hpa: make<V2HorizontalPodAutoscaler>(CHILD_KINDS.hpa, ownerKey),
      pdb: make<V1PodDisruptionBudget>(CHILD_KINDS.pdb, ownerKey),
    };
  }

  private all(): ResilientInformer<KubernetesObject>[] {
    return [this.runtimes, ...Object.values(this.children)] as ResilientInformer<KubernetesObject>[];
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

  /** NexusRuntimes by condition type and status, for the runtimes gauge. */
  conditionCounts(): ConditionCount[] {
    const counts = new Map<string, ConditionCount>();
    for (const runtime of this.runtimes.list()) {
      for (const c of runtime.status?.conditions ?? []) {
        const id = `${c.type}/${c.status}`;
        const entry = counts.get(id) ?? { condition: c.type, status: c.status, count: 0 };
        entry.count += 1;
        counts.set(id, entry);
      }
    }
    return [...counts.values()];
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
  configMap(namespace: string, name: string): V1ConfigMap | undefined {
    return this.children.configMap.get(name, namespace);
  }
  deployment(namespace: string, name: string): V1Deployment | undefined {
    return this.children.deployment.get(name, namespace);
  }
  service(namespace: string, name: string): V1Service | undefined {
    return this.children.service.get(name, namespace);
  }
  hpa(namespace: string, name: string): V2HorizontalPodAutoscaler | undefined {
    return this.children.hpa.get(name, namespace);
  }
  pdb(namespace: string, name: string): V1PodDisruptionBudget | undefined {
    return this.children.pdb.get(name, namespace);
  }
}
