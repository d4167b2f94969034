import type { V1Deployment, V1DeploymentStrategy } from '@kubernetes/client-node';
import { childName } from '../api/children.js';
import {
  CONFIG_HASH_ANNOTATION,
  PANELS_IMPORT_ANNOTATION,
  STORE_SECRET_HASH_ANNOTATION,
} from '../api/group.js';
import { commonLabels, selectorLabels } from '../api/labels.js';
import { contentHash } from './hash.js';
import { wantsHpa } from './hpa.js';
import { kernelPodSpec } from './kernel-pod.js';
import { childMetadata } from './labels.js';
import { singleKernel, type RuntimePlan } from './plan.js';

/**
 * The replica count we own. Under an HPA the field is left out of our applied configuration
 * entirely, so server-side apply leaves the HPA's value alone: the operator never fights it.
 * A kernel that holds the panels volume runs alone.
 */
export function ownedReplicas(plan: RuntimePlan): number | undefined {
  if (plan.spec.suspend) return 0;
  if (singleKernel(plan)) return 1;
  if (wantsHpa(plan)) return undefined;
  return plan.spec.replicas;
}

/** The hash of the store Secret's content the kernels read, so that a new URL rolls them. */
export function storeSecretHash(plan: RuntimePlan): string | undefined {
  if (plan.store.mode === 'Managed') return contentHash(plan.store.credentials.url);
  if (plan.store.mode === 'External') return plan.store.contentHash;
  return undefined;
}

function strategy(plan: RuntimePlan): V1DeploymentStrategy {
  // A ReadWriteOnce volume cannot be mounted by the old and the new pod at once.
  if (singleKernel(plan)) return { type: 'Recreate' };
  return { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } };
}

export function buildDeployment(plan: RuntimePlan, configHash: string): V1Deployment {
  const { pod } = plan.spec;
  const annotations: Record<string, string> = { ...pod.annotations, [CONFIG_HASH_ANNOTATION]: configHash };
  const secretHash = storeSecretHash(plan);
  if (secretHash) annotations[STORE_SECRET_HASH_ANNOTATION] = secretHash;
  if (plan.panels === 'importing' || plan.panels === 'imported') {
    annotations[PANELS_IMPORT_ANNOTATION] = childName('panelsVolume', plan.name);
  }
  const deployment: V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: childMetadata(plan, 'deployment'),
    spec: {
      selector: { matchLabels: selectorLabels(plan.name) },
      revisionHistoryLimit: 5,
      strategy: strategy(plan),
      template: {
        // Our labels win over user labels: the selector must keep matching.
        metadata: { labels: { ...pod.labels, ...commonLabels(plan.name) }, annotations },
        spec: kernelPodSpec(plan),
      },
    },
  };
  const replicas = ownedReplicas(plan);
  if (replicas !== undefined) deployment.spec!.replicas = replicas;
  return deployment;
}
