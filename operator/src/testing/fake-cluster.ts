// An in-memory cluster for reconciler tests: the cache and the writer share one store, as if the
// informers saw every write at once. Deployments get a new generation when their spec changes.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { NexusRuntime, NexusRuntimeStatus } from '../api/types.js';
import { canonicalJson } from '../builders/hash.js';
import type {
  ClusterCache,
  ClusterWriter,
  EventRecorder,
  EventType,
  ObjectRef,
} from '../controller/client.js';

export interface RecordedEvent {
  type: EventType;
  reason: string;
  message: string;
}

export class FakeCluster implements ClusterCache, ClusterWriter, EventRecorder {
  readonly objects = new Map<string, KubernetesObject>();
  readonly runtimes = new Map<string, NexusRuntime>();
  readonly writes: string[] = [];
  readonly events: RecordedEvent[] = [];
  failApply: Error | undefined;

  private static key(kind: string, namespace: string, name: string) {
    return `${kind}/${namespace}/${name}`;
  }

  putRuntime(runtime: NexusRuntime): void {
    this.runtimes.set(`${runtime.metadata.namespace}/${runtime.metadata.name}`, structuredClone(runtime));
  }

  getRuntime(namespace: string, name: string): NexusRuntime {
    return this.runtimes.get(`${namespace}/${name}`)!;
  }

  /** Change a runtime's spec the way the API server would: a new generation. */
  editSpec(namespace: string, name: string, edit: (r: NexusRuntime) => void): void {
    const r = this.getRuntime(namespace, name);
    edit(r);
    r.metadata.generation = (r.metadata.generation ?? 1) + 1;
  }

  get<T extends KubernetesObject>(kind: string, namespace: string, name: string): T | undefined {
    return this.objects.get(FakeCluster.key(kind, namespace, name)) as T | undefined;
  }

  remove(kind: string, namespace: string, name: string): void {
    this.objects.delete(FakeCluster.key(kind, namespace, name));
  }

  // ClusterCache
  runtime(namespace: string, name: string) {
    return this.runtimes.get(`${namespace}/${name}`);
  }
  configMap(namespace: string, name: string) {
    return this.get('ConfigMap', namespace, name);
  }
  deployment(namespace: string, name: string) {
    return this.get('Deployment', namespace, name);
  }
  service(namespace: string, name: string) {
    return this.get('Service', namespace, name);
  }
  hpa(namespace: string, name: string) {
    return this.get('HorizontalPodAutoscaler', namespace, name);
  }
  pdb(namespace: string, name: string) {
    return this.get('PodDisruptionBudget', namespace, name);
  }

  // ClusterWriter
  apply<T extends KubernetesObject>(object: T): Promise<T> {
    if (this.failApply) return Promise.reject(this.failApply);
    const { kind = '', metadata } = object;
    const key = FakeCluster.key(kind, metadata?.namespace ?? '', metadata?.name ?? '');
    this.writes.push(`apply ${kind}`);
    const before = this.objects.get(key) as (T & { spec?: unknown }) | undefined;
    // Items of a list carry no apiVersion and kind: store what a list would return.
    const { apiVersion: _a, kind: _k, ...stored } = structuredClone(object) as T & { spec?: unknown };
    const generation = before?.metadata?.generation ?? 0;
    const specChanged = !before || canonicalJson(before.spec) !== canonicalJson(stored.spec);
    stored.metadata = { ...stored.metadata, generation: specChanged ? generation + 1 : generation };
    this.objects.set(key, stored);
    return Promise.resolve(structuredClone(stored) as T);
  }

  delete(ref: ObjectRef): Promise<boolean> {
    this.writes.push(`delete ${ref.kind}`);
    return Promise.resolve(this.objects.delete(FakeCluster.key(ref.kind, ref.namespace, ref.name)));
  }

  applyStatus(name: string, namespace: string, status: NexusRuntimeStatus): Promise<void> {
    this.writes.push('status');
    this.getRuntime(namespace, name).status = structuredClone(status);
    return Promise.resolve();
  }

  // EventRecorder
  record(_runtime: NexusRuntime, type: EventType, reason: string, message: string): void {
    this.events.push({ type, reason, message });
  }

  /** Let the Deployment controller and the pods catch up: every desired pod updated and available. */
  rollOut(namespace: string, name: string): void {
    const d = this.get<KubernetesObject & { spec?: { replicas?: number }; status?: unknown }>(
      'Deployment',
      namespace,
      name,
    );
    if (!d) return;
    const replicas = d.spec?.replicas ?? 1;
    d.status = {
      observedGeneration: d.metadata?.generation,
      replicas,
      updatedReplicas: replicas,
      readyReplicas: replicas,
      availableReplicas: replicas,
    };
  }
}
