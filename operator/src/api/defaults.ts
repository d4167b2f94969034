// Default values of a NexusRuntime spec. The CRD schema publishes them as server-side defaults
// (schema.ts reads this file), and resolveSpec() applies the same values in the operator, so an
// object that reaches us without server defaulting (an older CRD, a test) still reconciles sanely.
import type {
  AutoscalingSpec,
  CacheMedium,
  DisruptionSpec,
  KernelLogLevel,
  NexusRuntimeSpec,
  PodOverrides,
  ProbeTuning,
  PullPolicy,
  SecretKeyRef,
} from './types.js';

/**
 * Resident memory of an idle workspace-kernel (Node.js, the bridge, one warm instance), in MiB:
 * the highest steady idle RSS measured by `make bench-kernel` (after 2,000 executions; see the
 * Kernel section of docs/benchmarks.md). It is the only place this number lives: the CEL budget
 * rule and the operator both read it.
 */
export const KERNEL_OVERHEAD_MB = 157;

export const DEFAULTS = {
  replicas: 1,
  suspend: false,
  resources: {
    requests: { cpu: '250m', memory: '256Mi' },
    limits: { cpu: '1', memory: '1Gi' },
  },
  runtime: {
    memoryLimitMB: 32,
    minInstances: 1,
    timeoutMs: 5000,
    maxHostCalls: 10000,
    maxStateMutations: 1000,
    maxEvents: 100,
  },
  cache: { medium: 'Memory' as CacheMedium, sizeLimit: '128Mi' },
  autoscaling: {
    enabled: true,
    minReplicas: 1,
    maxReplicas: 10,
    targetMemoryUtilizationPercentage: 80,
  },
  server: { logLevel: 'info' as KernelLogLevel },
  probes: {
    liveness: { initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3 },
    readiness: { initialDelaySeconds: 0, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 3 },
    startup: { initialDelaySeconds: 0, periodSeconds: 2, timeoutSeconds: 2, failureThreshold: 30 },
  },
} as const;

/** Bounds enforced by the schema; the operator repeats the checks it relies on. */
export const LIMITS = {
  memoryLimitMB: { min: 8, max: 1024 },
  maxInstances: { min: 1, max: 1000 },
  minInstances: { min: 0, max: 1000 },
  replicas: { min: 0, max: 1000 },
  autoscalingReplicas: { min: 1, max: 1000 },
  utilizationPercentage: { min: 1, max: 100 },
} as const;

export interface ResolvedSpec {
  image: string;
  imagePullPolicy?: PullPolicy;
  imagePullSecrets: { name: string }[];
  replicas: number;
  suspend: boolean;
  resources: {
    requests: { cpu: string | number; memory: string };
    limits: { cpu: string | number; memory: string };
  };
  runtime: {
    memoryLimitMB: number;
    maxInstances?: number;
    minInstances: number;
    timeoutMs: number;
    maxHostCalls: number;
    maxStateMutations: number;
    maxEvents: number;
  };
  cache: { medium: CacheMedium; sizeLimit: string };
  autoscaling: Required<Omit<AutoscalingSpec, 'targetCPUUtilizationPercentage' | 'behavior'>> &
    Pick<AutoscalingSpec, 'targetCPUUtilizationPercentage' | 'behavior'>;
  disruption: DisruptionSpec;
  server: {
    logLevel: KernelLogLevel;
    corsOrigins: string[];
    jwtSecretRef?: SecretKeyRef;
    allowedDomains: string[];
  };
  probes: {
    liveness: Required<ProbeTuning>;
    readiness: Required<ProbeTuning>;
    startup: Required<ProbeTuning>;
  };
  pod: PodOverrides;
}

/** The spec with every default filled in. `defaultImage` is the operator's configured kernel image. */
export function resolveSpec(spec: NexusRuntimeSpec | undefined, defaultImage: string): ResolvedSpec {
  const s = spec ?? {};
  const d = DEFAULTS;
  const resolved: ResolvedSpec = {
    image: s.image || defaultImage,
    imagePullSecrets: s.imagePullSecrets ?? [],
    replicas: s.replicas ?? d.replicas,
    suspend: s.suspend ?? d.suspend,
    resources: {
      requests: {
        cpu: s.resources?.requests?.cpu ?? d.resources.requests.cpu,
        memory: s.resources?.requests?.memory ?? d.resources.requests.memory,
      },
      limits: {
        cpu: s.resources?.limits?.cpu ?? d.resources.limits.cpu,
        memory: s.resources?.limits?.memory ?? d.resources.limits.memory,
      },
    },
    runtime: {
      memoryLimitMB: s.runtime?.memoryLimitMB ?? d.runtime.memoryLimitMB,
      minInstances: s.runtime?.minInstances ?? d.runtime.minInstances,
      timeoutMs: s.runtime?.timeoutMs ?? d.runtime.timeoutMs,
      maxHostCalls: s.runtime?.maxHostCalls ?? d.runtime.maxHostCalls,
      maxStateMutations: s.runtime?.maxStateMutations ?? d.runtime.maxStateMutations,
      maxEvents: s.runtime?.maxEvents ?? d.runtime.maxEvents,
    },
    cache: {
      medium: s.cache?.medium ?? d.cache.medium,
      sizeLimit: s.cache?.sizeLimit ?? d.cache.sizeLimit,
    },
    autoscaling: {
      enabled: s.autoscaling?.enabled ?? d.autoscaling.enabled,
      minReplicas: s.autoscaling?.minReplicas ?? d.autoscaling.minReplicas,
      maxReplicas: s.autoscaling?.maxReplicas ?? d.autoscaling.maxReplicas,
      targetMemoryUtilizationPercentage:
        s.autoscaling?.targetMemoryUtilizationPercentage ?? d.autoscaling.targetMemoryUtilizationPercentage,
    },
    disruption: { ...s.disruption },
    server: {
      logLevel: s.server?.logLevel ?? d.server.logLevel,
      corsOrigins: s.server?.corsOrigins ?? [],
      allowedDomains: s.server?.extensions?.http?.allowedDomains ?? [],
    },
    probes: {
      liveness: { ...d.probes.liveness, ...s.probes?.liveness },
      readiness: { ...d.probes.readiness, ...s.probes?.readiness },
      startup: { ...d.probes.startup, ...s.probes?.startup },
    },
    pod: s.pod ?? {},
  };
  if (s.imagePullPolicy) resolved.imagePullPolicy = s.imagePullPolicy;
  if (s.runtime?.maxInstances !== undefined) resolved.runtime.maxInstances = s.runtime.maxInstances;
  if (s.autoscaling?.targetCPUUtilizationPercentage !== undefined) {
    resolved.autoscaling.targetCPUUtilizationPercentage = s.autoscaling.targetCPUUtilizationPercentage;
  }
  if (s.autoscaling?.behavior) resolved.autoscaling.behavior = s.autoscaling.behavior;
  if (s.server?.auth?.jwtSecretRef) resolved.server.jwtSecretRef = s.server.auth.jwtSecretRef;
  return resolved;
}
