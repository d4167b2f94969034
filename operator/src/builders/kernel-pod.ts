// The kernel pod: one hardened container with its environment, probes and volumes.
import type {
  V1Container,
  V1EnvVar,
  V1PodSpec,
  V1Probe,
  V1TopologySpreadConstraint,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
import { childName } from '../api/children.js';
import { selectorLabels } from '../api/labels.js';
import type { ProbeTuning } from '../api/types.js';
import { terminationGracePeriodSeconds } from './grace.js';
import { EPHEMERAL, kernelEphemeralStorage, mi } from './ephemeral.js';
import { hardenedContainer, hardenedPod } from './security.js';
import { CACHE_DIR, PANELS_MOUNT, PORTS, STORE_CA_MOUNT, singleKernel, type RuntimePlan } from './plan.js';

const TMP_SIZE_LIMIT = mi(EPHEMERAL.kernelTmpMiB);

function httpProbe(path: string, tuning: Required<ProbeTuning>): V1Probe {
  return { httpGet: { path, port: 'http', scheme: 'HTTP' }, successThreshold: 1, ...tuning };
}

/** The kernel's environment beyond its ConfigMap: its identity, and what comes from Secrets. */
function env(plan: RuntimePlan): V1EnvVar[] {
  const { spec, store } = plan;
  const vars: V1EnvVar[] = [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }];
  if (store.mode === 'Managed') {
    const name = childName('storeSecret', plan.name);
    // Replicated, the kernels start from the Sentinels and follow the primary they name.
    const key = spec.store.managed.replicas > 1 ? 'sentinelUrl' : 'url';
    vars.push({ name: 'STORE_URL', valueFrom: { secretKeyRef: { name, key } } });
  } else if (store.mode === 'External') {
    const { name, key } = store.urlSecretRef;
    vars.push({ name: 'STORE_URL', valueFrom: { secretKeyRef: { name, key } } });
  }
  if (spec.server.jwtSecretRef) {
    const { name, key } = spec.server.jwtSecretRef;
    vars.push({ name: 'JWT_SECRET', valueFrom: { secretKeyRef: { name, key } } });
  }
  return vars;
}

function volumes(plan: RuntimePlan): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  const { cache } = plan.spec;
  const volumes: V1Volume[] = [
    {
      name: 'cache',
      emptyDir:
        cache.medium === 'Memory'
          ? { medium: 'Memory', sizeLimit: cache.sizeLimit }
          : { sizeLimit: cache.sizeLimit },
    },
    { name: 'tmp', emptyDir: { sizeLimit: TMP_SIZE_LIMIT } },
  ];
  const mounts: V1VolumeMount[] = [
    { name: 'cache', mountPath: CACHE_DIR },
    { name: 'tmp', mountPath: '/tmp' },
  ];
  // Panels live on a claim of their own, not on the cache emptyDir that sizeLimit bounds and the
  // kubelet evicts on.
  if (singleKernel(plan)) {
    volumes.push({
      name: 'panels',
      persistentVolumeClaim: { claimName: childName('panelsVolume', plan.name) },
    });
    mounts.push({ name: 'panels', mountPath: PANELS_MOUNT });
  }
  if (plan.store.mode === 'External' && plan.store.caSecretRef) {
    const { name, key } = plan.store.caSecretRef;
    volumes.push({ name: 'store-ca', secret: { secretName: name, items: [{ key, path: 'ca.crt' }] } });
    mounts.push({ name: 'store-ca', mountPath: STORE_CA_MOUNT, readOnly: true });
  }
  return { volumes, mounts };
}

function kernelContainer(plan: RuntimePlan, mounts: V1VolumeMount[]): V1Container {
  const { spec } = plan;
  const disk = kernelEphemeralStorage(spec);
  const container: V1Container = {
    name: 'kernel',
    image: spec.image,
    envFrom: [{ configMapRef: { name: childName('configMap', plan.name) } }],
    env: env(plan),
    ports: [
      { name: 'http', containerPort: PORTS.http, protocol: 'TCP' },
      { name: 'ws', containerPort: PORTS.ws, protocol: 'TCP' },
    ],
    resources: {
      requests: {
        cpu: String(spec.resources.requests.cpu),
        memory: spec.resources.requests.memory,
        'ephemeral-storage': disk,
      },
      limits: {
        cpu: String(spec.resources.limits.cpu),
        memory: spec.resources.limits.memory,
        'ephemeral-storage': disk,
      },
    },
    livenessProbe: httpProbe('/health', spec.probes.liveness),
    readinessProbe: httpProbe('/ready', spec.probes.readiness),
    startupProbe: httpProbe('/health', spec.probes.startup),
    securityContext: hardenedContainer(),
    volumeMounts: mounts,
  };
  if (spec.imagePullPolicy) container.imagePullPolicy = spec.imagePullPolicy;
  return container;
}

/**
 * A soft spread over nodes, so that the HPA does not stack every kernel on one node; per
 * revision (pod-template-hash), so that a rollout's new pods spread among themselves.
 */
export function defaultSpread(runtimeName: string): V1TopologySpreadConstraint[] {
  return [
    {
      maxSkew: 1,
      topologyKey: 'kubernetes.io/hostname',
      whenUnsatisfiable: 'ScheduleAnyway',
      labelSelector: { matchLabels: selectorLabels(runtimeName) },
      matchLabelKeys: ['pod-template-hash'],
    },
  ];
}

export function kernelPodSpec(plan: RuntimePlan): V1PodSpec {
  const { spec } = plan;
  const { volumes: podVolumes, mounts } = volumes(plan);
  const pod: V1PodSpec = {
    ...hardenedPod(),
    terminationGracePeriodSeconds: terminationGracePeriodSeconds(spec),
    containers: [kernelContainer(plan, mounts)],
    volumes: podVolumes,
  };
  const { nodeSelector, tolerations, affinity, topologySpreadConstraints, priorityClassName } = spec.pod;
  if (spec.imagePullSecrets.length > 0) pod.imagePullSecrets = spec.imagePullSecrets;
  if (nodeSelector && Object.keys(nodeSelector).length > 0) pod.nodeSelector = nodeSelector;
  if (tolerations?.length) pod.tolerations = tolerations;
  if (affinity) pod.affinity = affinity;
  const spread = topologySpreadConstraints ?? defaultSpread(plan.name);
  if (spread.length > 0) pod.topologySpreadConstraints = spread;
  if (priorityClassName) pod.priorityClassName = priorityClassName;
  return pod;
}
