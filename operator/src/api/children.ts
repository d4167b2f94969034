// The objects a NexusRuntime owns, one row per child. Everything that handles children by kind —
// the observed and desired types, the informers and their cache getters, the apply/delete loop,
// the in-memory cluster of the tests — is derived from this table, so a new child is one row,
// one builder and its RBAC rule.
import type {
  KubernetesObject,
  V1ConfigMap,
  V1Deployment,
  V1NetworkPolicy,
  V1PersistentVolumeClaim,
  V1PodDisruptionBudget,
  V1Secret,
  V1Service,
  V1StatefulSet,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';

/** Which part of a runtime an object belongs to; decides its labels. */
export const Component = { Kernel: 'kernel', Store: 'store' } as const;
export type Component = (typeof Component)[keyof typeof Component];

/** A Kubernetes kind as the API server serves it. */
export interface ResourceKind {
  readonly apiVersion: string;
  readonly kind: string;
  /** Plural resource name (the URL path segment and the RBAC resource). */
  readonly resource: string;
}

export interface ChildRow<T extends KubernetesObject = KubernetesObject> extends ResourceKind {
  readonly component: Component;
  /** The object's name for a runtime named `runtime`. */
  readonly name: (runtime: string) => string;
  /**
   * Part of every desired state. A required child missing after the first pass was deleted by
   * someone, and its re-creation is reported as a restore.
   */
  readonly required: boolean;
  /** Why the operator deletes the object when the desired state leaves it out (optional rows). */
  readonly removedWhen?: string;
  /**
   * `apply`: server-side apply whenever the live object differs. `create`: created once and never
   * written again, because its content is generated (a password) and must survive every pass.
   */
  readonly write: 'apply' | 'create';
  /** Carries the object type only; never set. */
  readonly objectType?: T;
}

const row = <T extends KubernetesObject>(r: Omit<ChildRow<T>, 'objectType'>): ChildRow<T> => r;

export const CHILDREN = {
  configMap: row<V1ConfigMap>({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    resource: 'configmaps',
    component: Component.Kernel,
    name: (n) => `${n}-config`,
    required: true,
    write: 'apply',
  }),
  service: row<V1Service>({
    apiVersion: 'v1',
    kind: 'Service',
    resource: 'services',
    component: Component.Kernel,
    name: (n) => n,
    required: true,
    write: 'apply',
  }),
  deployment: row<V1Deployment>({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    resource: 'deployments',
    component: Component.Kernel,
    name: (n) => n,
    required: true,
    write: 'apply',
  }),
  hpa: row<V2HorizontalPodAutoscaler>({
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    resource: 'horizontalpodautoscalers',
    component: Component.Kernel,
    name: (n) => n,
    required: false,
    removedWhen: 'autoscaling is off, the runtime is suspended or it runs one kernel',
    write: 'apply',
  }),
  pdb: row<V1PodDisruptionBudget>({
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    resource: 'poddisruptionbudgets',
    component: Component.Kernel,
    name: (n) => n,
    required: false,
    removedWhen: 'at most one kernel pod can run',
    write: 'apply',
  }),
  networkPolicy: row<V1NetworkPolicy>({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    resource: 'networkpolicies',
    component: Component.Kernel,
    name: (n) => n,
    required: false,
    removedWhen: 'spec.networkPolicy.enabled is false',
    write: 'apply',
  }),
  panelsVolume: row<V1PersistentVolumeClaim>({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    resource: 'persistentvolumeclaims',
    component: Component.Kernel,
    name: (n) => `${n}-panels`,
    required: false,
    removedWhen: 'the store is shared and the kernels have imported the embedded panels',
    write: 'apply',
  }),
  storeSecret: row<V1Secret>({
    apiVersion: 'v1',
    kind: 'Secret',
    resource: 'secrets',
    component: Component.Store,
    name: (n) => `${n}-store`,
    required: false,
    removedWhen: 'the store is no longer Managed',
    write: 'create',
  }),
  storeConfig: row<V1ConfigMap>({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    resource: 'configmaps',
    component: Component.Store,
    name: (n) => `${n}-store`,
    required: false,
    removedWhen: 'the store is no longer Managed',
    write: 'apply',
  }),
  storeService: row<V1Service>({
    apiVersion: 'v1',
    kind: 'Service',
    resource: 'services',
    component: Component.Store,
    name: (n) => `${n}-store`,
    required: false,
    removedWhen: 'the store is no longer Managed',
    write: 'apply',
  }),
  storePods: row<V1Service>({
    apiVersion: 'v1',
    kind: 'Service',
    resource: 'services',
    component: Component.Store,
    name: (n) => `${n}-store-pods`,
    required: false,
    removedWhen: 'the store is no longer Managed',
    write: 'apply',
  }),
  storeSentinelService: row<V1Service>({
    apiVersion: 'v1',
    kind: 'Service',
    resource: 'services',
    component: Component.Store,
    name: (n) => `${n}-store-sentinel`,
    required: false,
    removedWhen: 'the managed store runs one Redis',
    write: 'apply',
  }),
  storeStatefulSet: row<V1StatefulSet>({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    resource: 'statefulsets',
    component: Component.Store,
    name: (n) => `${n}-store`,
    required: false,
    removedWhen: 'the store is no longer Managed',
    write: 'apply',
  }),
  storeNetworkPolicy: row<V1NetworkPolicy>({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    resource: 'networkpolicies',
    component: Component.Store,
    name: (n) => `${n}-store`,
    required: false,
    removedWhen: 'the store is no longer Managed',
    write: 'apply',
  }),
  storePdb: row<V1PodDisruptionBudget>({
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    resource: 'poddisruptionbudgets',
    component: Component.Store,
    name: (n) => `${n}-store`,
    required: false,
    removedWhen: 'the managed store runs one Redis',
    write: 'apply',
  }),
} as const satisfies Record<string, ChildRow>;

export type ChildKey = keyof typeof CHILDREN;
export type ChildObject<K extends ChildKey> = (typeof CHILDREN)[K] extends ChildRow<infer T> ? T : never;
/** Some or all children of one runtime, by row. */
export type Children = { [K in ChildKey]?: ChildObject<K> };

/** The rows in table order (the order objects are written and reported in). */
export const CHILD_KEYS = Object.keys(CHILDREN) as ChildKey[];

/** The distinct kinds among the rows: one informer each. */
export const CHILD_KINDS: readonly ResourceKind[] = [
  ...new Map(
    Object.values(CHILDREN).map((r): [string, ResourceKind] => [
      `${r.apiVersion}/${r.kind}`,
      { apiVersion: r.apiVersion, kind: r.kind, resource: r.resource },
    ]),
  ).values(),
];

/** The child's name for a runtime, by row key. */
export function childName(key: ChildKey, runtime: string): string {
  return CHILDREN[key].name(runtime);
}
