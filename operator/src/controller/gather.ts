import type {
  V1ConfigMap,
  V1Deployment,
  V1PodDisruptionBudget,
  V1Service,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import { childNames } from '../builders/plan.js';
import type { ClusterCache } from './client.js';

/** The child objects of one runtime as the caches hold them now. */
export interface ObservedChildren {
  configMap?: V1ConfigMap;
  deployment?: V1Deployment;
  service?: V1Service;
  hpa?: V2HorizontalPodAutoscaler;
  pdb?: V1PodDisruptionBudget;
}

export function gatherChildren(cache: ClusterCache, namespace: string, name: string): ObservedChildren {
  const names = childNames(name);
  const observed: ObservedChildren = {};
  const configMap = cache.configMap(namespace, names.configMap);
  const deployment = cache.deployment(namespace, names.deployment);
  const service = cache.service(namespace, names.service);
  const hpa = cache.hpa(namespace, names.hpa);
  const pdb = cache.pdb(namespace, names.pdb);
  if (configMap) observed.configMap = configMap;
  if (deployment) observed.deployment = deployment;
  if (service) observed.service = service;
  if (hpa) observed.hpa = hpa;
  if (pdb) observed.pdb = pdb;
  return observed;
}
