import type {
  V1ConfigMap,
  V1Deployment,
  V1PodDisruptionBudget,
  V1Service,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import { APPLIED_HASH_ANNOTATION } from '../api/group.js';
import { buildConfigData, buildConfigMap, configHash } from './configmap.js';
import { buildDeployment } from './deployment.js';
import { contentHash } from './hash.js';
import { buildHpa } from './hpa.js';
import { buildPdb } from './pdb.js';
import type { RuntimePlan } from './plan.js';
import { buildService } from './service.js';

/** Every child object of one runtime; an absent HPA or PDB means "must not exist". */
export interface DesiredState {
  configHash: string;
  configMap: V1ConfigMap;
  deployment: V1Deployment;
  service: V1Service;
  hpa?: V2HorizontalPodAutoscaler;
  pdb?: V1PodDisruptionBudget;
}

interface WithMetadata {
  metadata?: { annotations?: Record<string, string> };
}

/**
 * Stamp the hash of an object's desired content on it. A live object that carries the same hash
 * and agrees on every desired field needs no write, which keeps an idle operator silent.
 */
export function stampAppliedHash<T extends WithMetadata>(object: T): T {
  const hash = contentHash(object);
  const metadata = object.metadata ?? {};
  return {
    ...object,
    metadata: { ...metadata, annotations: { ...metadata.annotations, [APPLIED_HASH_ANNOTATION]: hash } },
  };
}

export function buildDesiredState(plan: RuntimePlan): DesiredState {
  const hash = configHash(buildConfigData(plan));
  const hpa = buildHpa(plan);
  const pdb = buildPdb(plan);
  const desired: DesiredState = {
    configHash: hash,
    configMap: stampAppliedHash(buildConfigMap(plan)),
    deployment: stampAppliedHash(buildDeployment(plan, hash)),
    service: stampAppliedHash(buildService(plan)),
  };
  if (hpa) desired.hpa = stampAppliedHash(hpa);
  if (pdb) desired.pdb = stampAppliedHash(pdb);
  return desired;
}
