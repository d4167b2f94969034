import { CHILD_KEYS, childName, type Children } from '../api/children.js';
import type { ClusterCache } from './client.js';

/** The child objects of one runtime as the caches hold them now, by row of the child table. */
export function gatherChildren(cache: ClusterCache, namespace: string, name: string): Children {
  const observed: Record<string, unknown> = {};
  for (const key of CHILD_KEYS) {
    const object = cache.child(key, namespace, childName(key, name));
    if (object) observed[key] = object;
  }
  return observed;
}
