import type { V1Container, V1Deployment, V1EnvVar, V1PodSpec, V1Probe } from '@kubernetes/client-node';
import type { ProbeTuning } from '../api/types.js';
import { CONFIG_HASH_ANNOTATION } from '../api/group.js';
import { childMetadata, commonLabels, selectorLabels } from './labels.js';
import { CACHE_DIR, KERNEL_UID, PORTS, childNames, type RuntimePlan } from './plan.js';
import { wantsHpa } from './hpa.js';

const TMP_SIZE_LIMIT = '64Mi';

function httpProbe(path: string, tuning: Required<ProbeTuning>): V1Probe {
  return { httpGet: { path, port: 'http', scheme: 'HTTP' }, successThreshold: 1, ...tuning };
}

/**
 * The replica count we own. Under an HPA the field is left out of our applied configuration
 * entirely, so server-side apply leaves the HPA's value alone: the operator never fights it.
 */
export function ownedReplicas(plan: RuntimePlan): number | undefined {
  if (plan.spec.suspend) return 0;
  if (wantsHpa(plan)) return undefined;
  return plan.spec.replicas;
}

function kernelContainer(plan: RuntimePlan): V1Container {
  const { spec } = plan;
  const env: V1EnvVar[] = [];
  if (spec.server.jwtSecretRef) {
    const { name, key } = spec.server.jwtSecretRef;
    env.push({ name: 'JWT_SECRET', valueFrom: { secretKeyRef: { name, key } } });
  }
  const container: V1Container = {
    name: 'kernel',
    image: spec.image,
    envFrom: [{ configMapRef: { name: childNames(plan.name).configMap } }],
    ports: [
      { name: 'http', containerPort: PORTS.http, protocol: 'TCP' },
      { name: 'ws', containerPort: PORTS.ws, protocol: 'TCP' },
    ],
    resources: {
      requests: { cpu: String(spec.resources.requests.cpu), memory: spec.resources.requests.memory },
      limits: { cpu: String(spec.resources.limits.cpu), memory: spec.resources.limits.memory },
    },
    livenessProbe: httpProbe('/health', spec.probes.liveness),
    readinessProbe: httpProbe('/ready', spec.probes.readiness),
    startupProbe: httpProbe('/health', spec.probes.startup),
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    },
    volumeMounts: [
      { name: 'cache', mountPath: CACHE_DIR },
      { name: 'tmp', mountPath: '/tmp' },
    ],
  };
  if (env.length > 0) container.env = env;
  if (spec.imagePullPolicy) container.imagePullPolicy = spec.imagePullPolicy;
  return container;
}

function podSpec(plan: RuntimePlan): V1PodSpec {
  const { spec } = plan;
  const pod: V1PodSpec = {
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: KERNEL_UID,
      runAsGroup: KERNEL_UID,
      fsGroup: KERNEL_UID,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    containers: [kernelContainer(plan)],
    volumes: [
      {
        name: 'cache',
        emptyDir:
          spec.cache.medium === 'Memory'
            ? { medium: 'Memory', sizeLimit: spec.cache.sizeLimit }
            : { sizeLimit: spec.cache.sizeLimit },
      },
      { name: 'tmp', emptyDir: { sizeLimit: TMP_SIZE_LIMIT } },
    ],
  };
  const { nodeSelector, tolerations, affinity, topologySpreadConstraints, priorityClassName } = spec.pod;
  if (spec.imagePullSecrets.length > 0) pod.imagePullSecrets = spec.imagePullSecrets;
  if (nodeSelector && Object.keys(nodeSelector).length > 0) pod.nodeSelector = nodeSelector;
  if (tolerations?.length) pod.tolerations = tolerations;
  if (affinity) pod.affinity = affinity;
  if (topologySpreadConstraints?.length) pod.topologySpreadConstraints = topologySpreadConstraints;
  if (priorityClassName) pod.priorityClassName = priorityClassName;
  return pod;
}

export function buildDeployment(plan: RuntimePlan, configHash: string): V1Deployment {
  const { pod } = plan.spec;
  const deployment: V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: childMetadata(plan, childNames(plan.name).deployment),
    spec: {
      selector: { matchLabels: selectorLabels(plan.name) },
      revisionHistoryLimit: 5,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: {
          // Our labels win over user labels: the selector must keep matching.
          labels: { ...pod.labels, ...commonLabels(plan.name) },
          annotations: { ...pod.annotations, [CONFIG_HASH_ANNOTATION]: configHash },
        },
        spec: podSpec(plan),
      },
    },
  };
  const replicas = ownedReplicas(plan);
  if (replicas !== undefined) deployment.spec!.replicas = replicas;
  return deployment;
}
