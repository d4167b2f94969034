// The small surface through which the reconciler reaches the API server and its caches. Passed in,
// so the reconciler's tests use an in-memory cluster instead of mocking modules.
import type {
  KubernetesObject,
  V1ConfigMap,
  V1Deployment,
  V1PodDisruptionBudget,
  V1Service,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import type { NexusRuntime, NexusRuntimeStatus } from '../api/types.js';

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
}

export interface ClusterWriter {
  /** Server-side apply under our field manager, forcing ownership of the fields we set. */
  apply<T extends KubernetesObject>(object: T): Promise<T>;
  /** Delete an object; false when it was already gone. */
  delete(ref: ObjectRef): Promise<boolean>;
  /** Server-side apply of the status subresource. */
  applyStatus(name: string, namespace: string, status: NexusRuntimeStatus): Promise<void>;
}

export const EventType = { Normal: 'Normal', Warning: 'Warning' } as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

export interface EventRecorder {
  /** Best effort: a failure to record an event is logged, never thrown. */
  record(runtime: NexusRuntime, type: EventType, reason: string, message: string): void;
}

/** Read access to what the informers hold. */
export interface ClusterCache {
  runtime(namespace: string, name: string): NexusRuntime | undefined;
  configMap(namespace: string, name: string): V1ConfigMap | undefined;
  deployment(namespace: string, name: string): V1Deployment | undefined;
  service(namespace: string, name: string): V1Service | undefined;
  hpa(namespace: string, name: string): V2HorizontalPodAutoscaler | undefined;
  pdb(namespace: string, name: string): V1PodDisruptionBudget | undefined;
}
