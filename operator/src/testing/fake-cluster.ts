// An in-memory cluster for reconciler tests: the cache and the writer share one store, as if the
// informers saw every write at once. Objects get a new generation when their spec changes. It
// serves every row of the child table through the same generic calls the real caches answer.
import type { KubernetesObject, V1Pod, V1Secret } from '@kubernetes/client-node';
import { CHILDREN, type ChildKey, type ChildObject } from '../api/children.js';
import type { NexusRuntime, NexusRuntimeStatus } from '../api/types.js';
import { canonicalJson } from '../builders/hash.js';
import type {
  ClusterCache,
  ClusterWriter,
  EventRecorder,
  EventType,
  ObjectRef,
  SecretReader,
} from '../controller/client.js';

export interface RecordedEvent {
  type: EventType;
  reason: string;
  message: string;
}

export class FakeCluster implements ClusterCache, ClusterWriter, SecretReader, EventRecorder {
  readonly objects = new Map<string, KubernetesObject>();
  readonly runtimes = new Map<string, NexusRuntime>();
  /** Secrets no informer sees (users' Secrets, read by name only). */
  readonly userSecrets = new Map<string, V1Secret>();
  readonly writes: string[] = [];
  readonly events: RecordedEvent[] = [];
  failApply: Error | undefined;
  /** Objects created while the cache has not seen them yet: a create finds them, the cache does not. */
  readonly hiddenFromCache = new Set<string>();

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

  /** Put an object into the cluster as someone else would (no write recorded). */
  put<T extends KubernetesObject>(kind: string, object: T): void {
    const { metadata } = object;
    this.objects.set(FakeCluster.key(kind, metadata?.namespace ?? '', metadata?.name ?? ''), object);
  }

  remove(kind: string, namespace: string, name: string): void {
    this.objects.delete(FakeCluster.key(kind, namespace, name));
  }

  // ClusterCache
  runtime(namespace: string, name: string) {
    return this.runtimes.get(`${namespace}/${name}`);
  }

  child<K extends ChildKey>(key: K, namespace: string, name: string): ChildObject<K> | undefined {
    const id = FakeCluster.key(CHILDREN[key].kind, namespace, name);
    if (this.hiddenFromCache.has(id)) return undefined;
    return this.objects.get(id) as ChildObject<K> | undefined;
  }

  pods(namespace: string, runtime: string): readonly V1Pod[] {
    return [...this.objects.entries()]
      .filter(([key]) => key.startsWith(`Pod/${namespace}/`))
      .map(([, object]) => object as V1Pod)
      .filter((pod) => pod.metadata?.labels?.['app.kubernetes.io/instance'] === runtime);
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
    // What the API server keeps that apply does not set (a volume's phase, a Deployment's status).
    const kept = before as { status?: unknown } | undefined;
    if (kept?.status !== undefined) (stored as { status?: unknown }).status = kept.status;
    this.objects.set(key, stored);
    return Promise.resolve(structuredClone(stored) as T);
  }

  create<T extends KubernetesObject>(object: T): Promise<T | undefined> {
    if (this.failApply) return Promise.reject(this.failApply);
    const { kind = '', metadata } = object;
    const key = FakeCluster.key(kind, metadata?.namespace ?? '', metadata?.name ?? '');
    this.writes.push(`create ${kind}`);
    if (this.objects.has(key)) return Promise.resolve(undefined);
    const {
      apiVersion: _a,
      kind: _k,
      ...stored
    } = structuredClone(object) as KubernetesObject & {
      stringData?: Record<string, string>;
      data?: Record<string, string>;
    };
    // The API server stores a Secret's stringData base64-encoded under data.
    if (stored.stringData) {
      stored.data = Object.fromEntries(
        Object.entries(stored.stringData).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
      );
      delete stored.stringData;
    }
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

  // SecretReader: our own Secrets first (as the API server would answer), then users' ones.
  readSecret(namespace: string, name: string): Promise<V1Secret | undefined> {
    this.writes.push('get Secret');
    const own = this.get<V1Secret>('Secret', namespace, name);
    return Promise.resolve(structuredClone(own ?? this.userSecrets.get(`${namespace}/${name}`)));
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

  /** Let the StatefulSet controller start the store: its one pod ready at the current revision. */
  startStore(namespace: string, name: string, ready = true): void {
    const s = this.get<KubernetesObject & { status?: unknown }>('StatefulSet', namespace, `${name}-store`);
    if (!s) return;
    const n = ready ? 1 : 0;
    s.status = {
      observedGeneration: s.metadata?.generation,
      replicas: 1,
      readyReplicas: n,
      availableReplicas: n,
      updatedReplicas: 1,
      currentRevision: 'r1',
      updateRevision: 'r1',
    };
  }

  /** Bind a volume claim, as the PV controller would. */
  bindVolume(namespace: string, name: string): void {
    const v = this.get<KubernetesObject & { status?: unknown }>('PersistentVolumeClaim', namespace, name);
    if (v) v.status = { phase: 'Bound' };
  }
}
