// The small surface through which the reconciler reaches the API server and its caches. Passed in,
// so the reconciler's tests use an in-memory cluster instead of mocking modules.
import type { KubernetesObject, V1Pod, V1Secret } from '@kubernetes/client-node';
import type { ChildKey, ChildObject } from '../api/children.js';
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
  /** Create an object; undefined when one of that name exists already (nothing is overwritten). */
  create<T extends KubernetesObject>(object: T): Promise<T | undefined>;
  /** Delete an object; false when it was already gone. */
  delete(ref: ObjectRef): Promise<boolean>;
  /** Server-side apply of the status subresource. */
  applyStatus(name: string, namespace: string, status: NexusRuntimeStatus): Promise<void>;
}

/**
 * Reads of single Secrets by name: users' Secrets (which carry no label of ours, so no informer
 * sees them) and our own store Secret after a create lost a race with the cache.
 */
export interface SecretReader {
  readSecret(namespace: string, name: string): Promise<V1Secret | undefined>;
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
  child<K extends ChildKey>(key: K, namespace: string, name: string): ChildObject<K> | undefined;
  /** The runtime's pods, kernel and store (by the instance label of our managed objects). */
  pods(namespace: string, runtime: string): readonly V1Pod[];
}
